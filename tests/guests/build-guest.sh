#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds a small real Debian 12 guest "as on VMware", for the guest
# conversion tests (issue 16), or reuses it from the cache.
#
#   tests/guests/build-guest.sh VARIANT
#
# Prints ONE line on stdout: the absolute path of a directory holding
#   VARIANT.vmx     a VMware Workstation-style .vmx: displayName, guestOS
#                   "debian12-64", memsize 1024, numvcpus 1, firmware
#                   bios|efi, the disk on sata0:0 or scsi0:0 (lsilogic),
#                   ethernet0 e1000 with a static 00:50:56:xx:xx:xx MAC
#   VARIANT.vmdk    the disk (monolithicSparse, qemu-img convert -O vmdk)
#   VARIANT.expect  shell-sourceable: EXPECT_IFACE=, EXPECT_ADDR= (what the
#                   guest must report once converted and booted on KVM
#                   with qemu user networking), FIRMWARE=bios|efi,
#                   NEEDS_FIX="..." (what is broken for KVM, free text),
#                   and BUS=sata|lsi, MAC= (how it sat on VMware)
# Everything else (progress, tool output) goes to stderr.  Exit 77 with
# a reason on stderr when a tool is missing (root, debootstrap, the
# Debian mirror, libguestfs for lvm, ...); 1 on a failed build; 2 on a
# wrong argument.
#
# Variants: bios-mbr uefi-gpt lvm fstab-sda modules-dep dracut vmtools
# ifupdown-static netplan (README.md says what each one exercises).
#
# Every guest: Debian 12 from deb.debian.org (debootstrap), kernel
# command line console=ttyS0, root password locked, and a systemd unit
# (vmconv-guest.service) that after network-online, or at most ~40 s
# without it, writes one line to /dev/ttyS0
#   VMCONV-GUEST variant=NAME iface=IFACE addr=ADDR
# (the first non-lo interface that is UP and its IPv4, else none) and
# powers off.  The network configuration names the NIC ens33, as Debian
# names an e1000 in VMware's PCI slot 33: on KVM the NIC gets another
# name, and keeping ens33 is the conversion's job.
#
# How: debootstrap once into a base tarball (cached, shared by all
# variants), then per variant: unpack, customise in a chroot on the host,
# make the file systems in files with mkfs.ext4 -d / mkfs.vfat + mcopy,
# partition the image file with sfdisk, dd conv=notrunc into partition
# offsets, GRUB written with grub-mkimage + grub-bios-setup on the image
# file.  No loop device, nothing mounted on the host.  libguestfs
# (guestfish) only where the host cannot do it: the LVM physical volume,
# volume group and logical volume of the lvm variant.  Must run as root
# (chroot, file ownership in the images).
#
# Cache: ${VMCONV_GUEST_CACHE:-/var/tmp/vmconv-guests}:
#   base-HASH.tar.zst   the debootstrap'ed base root (HASH: its package
#                       list and mirror)
#   debs/               .debs the variants added, kept for the next build
#   VARIANT-HASH/       a built guest; HASH: the builder's files
#                       (this script and files/) and the variant, so an
#                       edit of the builder rebuilds (and the older
#                       build of the variant is removed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VMCONV_GUEST_CACHE:-/var/tmp/vmconv-guests}
mirror=${VMCONV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
disk_size=2G

variants="bios-mbr uefi-gpt lvm fstab-sda modules-dep dracut vmtools ifupdown-static netplan"

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
skip() { log "skip: $*"; exit 77; }

# The base root: what every variant has.  Kept minimal; the kernel, both
# GRUB platforms (installed by hand below), initramfs-tools, ifupdown
# with dhclient, systemd as init, iproute2 for the marker script.
base_packages=linux-image-amd64,grub-pc-bin,grub-efi-amd64-bin,grub2-common,initramfs-tools,zstd,ifupdown,isc-dhcp-client,systemd-sysv,udev,kmod,iproute2,e2fsprogs,netbase,ca-certificates

usage() {
    echo "usage: $0 VARIANT   (one of: $variants)" >&2
    exit 2
}

[ $# -eq 1 ] || usage
variant=$1
case " $variants " in *" $variant "*) ;; *) usage ;; esac

# ---------------------------------------------------------------- tools
[ "$(id -u)" -eq 0 ] || skip "must run as root (debootstrap, chroot, file ownership)"
# GRUB itself comes from the guest (its grub-mkimage, run in the chroot).
for t in debootstrap chroot sfdisk mkfs.ext4 mkfs.vfat mcopy mmd qemu-img \
         zstd tar sha256sum uuidgen; do
    command -v "$t" >/dev/null 2>&1 ||
        skip "$t is missing (Debian packages: debootstrap fdisk e2fsprogs dosfstools mtools qemu-utils zstd uuid-runtime)"
done
if [ "$variant" = lvm ]; then
    command -v guestfish >/dev/null 2>&1 ||
        skip "guestfish is missing (Debian package libguestfs-tools)"
fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# -------------------------------------------------------------- the base
# debootstrap (minbase + the packages above) into a tarball, once.  The
# apt lists stay in it so that the variants can install more packages.
base_key=$(printf '%s\n' "$suite" "$mirror" "$base_packages" base-v1 |
           sha256sum | cut -c1-16)
base_tar=$cache/base-$base_key.tar.zst

make_base() {
    local t0=$SECONDS d
    local host
    host=${mirror#*://}; host=${host%%/*}
    timeout 30 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null ||
        skip "cannot reach $host:80 (debootstrap needs the Debian mirror)"
    d=$(mktemp -d "$cache/base.XXXXXX")
    log "debootstrap $suite into $d (once; cached as $base_tar)"
    if ! debootstrap --variant=minbase --include="$base_packages" \
            "$suite" "$d/root" "$mirror" >"$d/debootstrap.log" 2>&1; then
        tail -20 "$d/debootstrap.log" >&2
        rm -rf "$d"
        die "debootstrap failed (log above)"
    fi
    chroot "$d/root" apt-get clean
    tar -C "$d/root" --numeric-owner --xattrs -cpf - . | zstd -q -T2 -o "$d/base.tar.zst"
    mv "$d/base.tar.zst" "$base_tar"
    rm -rf "$d"
    log "base done in $((SECONDS - t0)) s"
}
[ -f "$base_tar" ] || make_base

# ---------------------------------------------------------- the variant
# What the variant is made of.
fw=bios table=dos bus=sata net=dhcp initrd=most fstab=uuid extra=
case $variant in
    bios-mbr) ;;
    uefi-gpt) fw=efi table=gpt ;;
    lvm) bus=lsi extra=lvm2 ;;
    fstab-sda) fstab=sda ;;
    modules-dep) bus=lsi initrd=list ;;
    dracut) initrd=dracut extra=dracut ;;
    vmtools) bus=lsi extra=open-vm-tools ;;
    ifupdown-static) net=static ;;
    netplan) bus=lsi net=netplan extra=netplan.io ;;
esac
# A fixed VMware MAC (static range 00:50:56:00:00:00-3f:ff:ff), one per
# variant.
n=0
for v in $variants; do
    n=$((n + 1))
    [ "$v" = "$variant" ] && break
done
mac=$(printf '00:50:56:3a:10:%02x' "$n")

key=$( (cd "$here" && cat build-guest.sh files/*; echo "$variant") |
       sha256sum | cut -c1-16)
out=$cache/$variant-$key
if [ -f "$out/$variant.expect" ] && [ -f "$out/$variant.vmdk" ] &&
   [ -f "$out/$variant.vmx" ]; then
    log "$variant: cached in $out"
    echo "$out"
    exit 0
fi

t0=$SECONDS
work=$(mktemp -d "$cache/$variant-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir "$root"
log "$variant: unpacking the base into $work"
zstd -q -dc "$base_tar" | tar -C "$root" --numeric-owner --xattrs -xpf -

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"; }

# No service may start in the chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Packages the variant adds, with the .debs kept in the cache.
if [ -n "$extra" ]; then
    mkdir -p "$cache/debs"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    find "$cache/debs" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives" {} +
    log "$variant: apt-get install $extra"
    in_root apt-get update -q >&2 || die "apt-get update in the chroot"
    in_root apt-get install -y -q --no-install-recommends $extra >&2 ||
        die "apt-get install $extra in the chroot"
    find "$root/var/cache/apt/archives" -name '*.deb' -exec cp -nt "$cache/debs" {} +
    : > "$root/etc/resolv.conf"
fi
if [ "$variant" = netplan ]; then
    # A netplan guest has no ifupdown (as Debian's cloud images).
    in_root apt-get purge -y -q ifupdown isc-dhcp-client isc-dhcp-common >&2
fi
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/*

kver=$(ls "$root/lib/modules")
[ "$(echo "$kver" | wc -l)" -eq 1 ] || die "expected one kernel in the base, found: $kver"

# The file systems' identities, fixed now: fstab, grub.cfg and GRUB's
# embedded configuration name them.
root_uuid=$(uuidgen)
boot_uuid=$(uuidgen)
efi_volid=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)
efi_uuid=${efi_volid:0:4}-${efi_volid:4:4}
vg=debian-vg
root_lv=/dev/mapper/debian--vg-root

# --------------------------------------------------- configuration files
echo "$variant" > "$root/etc/vmconv-guest-variant"
echo "vmconv-$variant" > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmconv-%s\n' "$variant" > "$root/etc/hosts"
in_root passwd -l root >/dev/null
ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
echo "Etc/UTC" > "$root/etc/timezone"

case $variant in
    lvm)
        printf '%s\n' "# <file system> <mount point> <type> <options> <dump> <pass>" \
            "$root_lv / ext4 errors=remount-ro 0 1" \
            "UUID=$boot_uuid /boot ext4 defaults 0 2" ;;
    uefi-gpt)
        printf '%s\n' "# <file system> <mount point> <type> <options> <dump> <pass>" \
            "UUID=$root_uuid / ext4 errors=remount-ro 0 1" \
            "UUID=$efi_uuid /boot/efi vfat umask=0077 0 1" ;;
    fstab-sda)
        printf '%s\n' "# <file system> <mount point> <type> <options> <dump> <pass>" \
            "/dev/sda1 / ext4 errors=remount-ro 0 1" ;;
    *)
        printf '%s\n' "# <file system> <mount point> <type> <options> <dump> <pass>" \
            "UUID=$root_uuid / ext4 errors=remount-ro 0 1" ;;
esac > "$root/etc/fstab"

# The network, on the name Debian gives an e1000 in VMware's slot 33.
mkdir -p "$root/etc/network"
{
    printf '%s\n' "# The loopback network interface" "auto lo" "iface lo inet loopback"
    case $net in
        dhcp)
            printf '%s\n' "" "# The primary network interface" \
                "allow-hotplug ens33" "iface ens33 inet dhcp" ;;
        static)
            printf '%s\n' "" "# The primary network interface" \
                "auto ens33" "iface ens33 inet static" \
                "	address 192.168.122.50/24" "	gateway 192.168.122.1" ;;
    esac
} > "$root/etc/network/interfaces"
if [ "$net" = netplan ]; then
    mkdir -p "$root/etc/netplan"
    cat > "$root/etc/netplan/01-ens33.yaml" <<'YAML'
network:
  version: 2
  renderer: networkd
  ethernets:
    ens33:
      match:
        name: ens33
      addresses:
        - 192.168.122.51/24
      routes:
        - to: default
          via: 192.168.122.1
YAML
    chmod 600 "$root/etc/netplan/01-ens33.yaml"
    in_root systemctl enable systemd-networkd >&2
fi

# The marker.  The wait-online services give up after 30 s, so that
# the marker still runs (and says addr=none) on a guest whose network
# is not configured.
install -m 755 "$here/files/vmconv-guest-marker" "$root/usr/local/sbin/vmconv-guest-marker"
install -m 644 "$here/files/vmconv-guest.service" "$root/etc/systemd/system/vmconv-guest.service"
in_root systemctl enable vmconv-guest.service >&2
mkdir -p "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --timeout=30\n' \
    > "$root/etc/systemd/system/systemd-networkd-wait-online.service.d/timeout.conf"

# GRUB's defaults (the template grub-pc's postinst would install): the
# serial console, no "quiet" (the boot log on the serial port shows why
# a guest did not boot).
[ -f "$root/etc/default/grub" ] ||
    cp "$root/usr/share/grub/default/grub" "$root/etc/default/grub"
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
       -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT=""/' \
       -e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0"/' \
       "$root/etc/default/grub"
cat >> "$root/etc/default/grub" <<'G'
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
G
if [ "$fstab" = sda ]; then
    echo "GRUB_DISABLE_LINUX_UUID=true" >> "$root/etc/default/grub"
fi

# ------------------------------------------------------------- initramfs
# The base's initramfs was made with initramfs-tools' default
# MODULES=most: every storage and virtio driver, so it boots anywhere.
# MODULES=dep and dracut --hostonly would look at the devices of the
# machine they run on, and in this chroot that is the BUILD HOST (on
# virtio here), not the VMware guest: they would keep virtio_blk and
# drop ahci.  So the images that must lack virtio are made from an
# explicit list of what a VMware guest uses, and the guest's own
# configuration says dep / hostonly, as one installed on VMware has.
vmware_modules="ahci libahci ata_piix ata_generic sd_mod sr_mod mptspi mptsas mptscsih mptbase
scsi_transport_spi vmw_pvscsi sym53c8xx e1000 e1000e vmxnet3 ext4 crc32c_generic crc32c_intel"
# sym53c8xx is not VMware's: it drives QEMU's lsi53c895a, which stands
# for VMware's LSI Logic (mptspi) when the unconverted guest is booted
# "as on VMware" under QEMU.
virtio_modules="virtio_blk virtio_scsi virtio_net virtio_pci virtio_pci_legacy_dev virtio_pci_modern_dev virtio_console virtio_balloon virtio_ring virtio"
case $initrd in
    list)
        conf=$root/etc/initramfs-tools
        cp -a "$conf" "$root/tmp/initramfs-vmware"
        sed -i 's/^MODULES=.*/MODULES=list/' "$root/tmp/initramfs-vmware/initramfs.conf"
        echo "$vmware_modules" | tr ' ' '\n' >> "$root/tmp/initramfs-vmware/modules"
        log "$variant: mkinitramfs MODULES=list (the drivers a VMware guest uses)"
        in_root mkinitramfs -d /tmp/initramfs-vmware -o "/boot/initrd.img-$kver" "$kver" >&2 ||
            die "mkinitramfs"
        rm -rf "$root/tmp/initramfs-vmware"
        sed -i 's/^MODULES=.*/MODULES=dep/' "$conf/initramfs.conf"
        ;;
    dracut)
        # Debian's dracut makes generic images; RHEL's are hostonly.
        printf '%s\n' "# As RHEL builds its images: only what this machine needs." \
            'hostonly="yes"' 'hostonly_cmdline="no"' \
            > "$root/etc/dracut.conf.d/90-hostonly.conf"
        log "$variant: dracut --no-hostonly --omit-drivers virtio..."
        # zstd -3: gzip -9 of this generic image takes minutes here.
        in_root dracut --force --no-hostonly --no-hostonly-cmdline \
            --compress "zstd -q -3 -T0" \
            --omit-drivers "$virtio_modules" --add-drivers "$vmware_modules" \
            "/boot/initrd.img-$kver" "$kver" >&2 || die "dracut"
        ;;
esac
rm -f "$root"/boot/initrd.img-*.bak "$root"/boot/*.old-dkms

# What the initramfs holds: virtio_blk must be absent exactly where the
# variant says.
if [ "$initrd" = dracut ]; then
    in_root lsinitrd "/boot/initrd.img-$kver" > "$work/initrd.list" 2>/dev/null
else
    in_root lsinitramfs "/boot/initrd.img-$kver" > "$work/initrd.list"
fi
has_virtio=no
grep -q '/virtio_blk\.ko' "$work/initrd.list" && has_virtio=yes
has_ahci=no
grep -q '/ahci\.ko' "$work/initrd.list" && has_ahci=yes
case $initrd in
    most) want_virtio=yes ;;
    *) want_virtio=no ;;
esac
[ "$has_virtio" = "$want_virtio" ] ||
    die "initramfs: virtio_blk present=$has_virtio, want $want_virtio"
[ "$has_ahci" = yes ] || die "initramfs: ahci is missing"
[ "$variant" != lvm ] || grep -q 'sbin/lvm' "$work/initrd.list" ||
    die "initramfs: lvm is missing"
log "$variant: initramfs $kver: virtio_blk=$has_virtio ahci=$has_ahci"

# ------------------------------------------------------------------ GRUB
# grub.cfg by Debian's update-grub in the chroot, with a stand-in for
# grub-probe that describes the guest's disk instead of the host's
# (files/fake-grub-probe, and fake-grub-mkrelpath for the paths on a
# separate /boot); the /dev entries that 10_linux tests for
# decide between root=UUID= and a device name, as on the real disk.
case $fw/$variant in
    efi/*) root_dev=/dev/sda2 root_part=2 ;;
    */lvm) root_dev=$root_lv root_part= ;;
    *) root_dev=/dev/sda1 root_part=1 ;;
esac
{
    echo "ROOT_DEV=$root_dev ROOT_PART=$root_part ROOT_UUID=$root_uuid"
    echo "PARTMAP=$([ "$table" = gpt ] && echo gpt || echo msdos)"
    if [ "$variant" = lvm ]; then
        echo "ROOT_ABSTRACTION=lvm BOOT_DEV=/dev/sda1 BOOT_PART=1 BOOT_UUID=$boot_uuid"
    else
        echo "ROOT_ABSTRACTION= BOOT_DEV= BOOT_PART= BOOT_UUID="
    fi
    if [ "$fw" = efi ]; then
        echo "EFI_DEV=/dev/sda1 EFI_PART=1 EFI_UUID=$efi_uuid"
    else
        echo "EFI_DEV= EFI_PART= EFI_UUID="
    fi
} > "$root/tmp/vmconv-grub-probe.env"
mv "$root/usr/sbin/grub-probe" "$root/usr/sbin/grub-probe.real"
mv "$root/usr/bin/grub-mkrelpath" "$root/usr/bin/grub-mkrelpath.real"
install -m 755 "$here/files/fake-grub-probe" "$root/usr/sbin/grub-probe"
install -m 755 "$here/files/fake-grub-mkrelpath" "$root/usr/bin/grub-mkrelpath"
mkdir -p "$root/dev/disk/by-uuid" "$root/dev/mapper" "$root/boot/grub"
touch "$root/dev/disk/by-uuid/$root_uuid" "$root/dev/sda1"
[ "$variant" != lvm ] || touch "$root$root_lv"
in_root update-grub >&2 || die "update-grub"
mv "$root/usr/sbin/grub-probe.real" "$root/usr/sbin/grub-probe"
mv "$root/usr/bin/grub-mkrelpath.real" "$root/usr/bin/grub-mkrelpath"
rm -rf "$root/dev/disk" "$root/dev/sda1" "$root/tmp/vmconv-grub-probe.env"
[ "$variant" != lvm ] || rm -f "$root$root_lv"

# GRUB's core image, as grub-install makes it: the configuration it
# embeds finds the file system holding /boot/grub by UUID.
if [ "$variant" = lvm ]; then
    grub_uuid=$boot_uuid grub_hint=hd0,msdos1 grub_prefix=/grub
else
    grub_uuid=$root_uuid grub_prefix=/boot/grub
    grub_hint=hd0,$([ "$table" = gpt ] && echo gpt2 || echo msdos1)
fi
printf "search.fs_uuid %s root %s\nset prefix=(\$root)'%s'\n" \
    "$grub_uuid" "$grub_hint" "$grub_prefix" > "$root/tmp/load.cfg"
if [ "$fw" = bios ]; then
    cp -a "$root/usr/lib/grub/i386-pc" "$root/boot/grub/"
    in_root grub-mkimage -O i386-pc -o /tmp/core.img -c /tmp/load.cfg \
        -p "$grub_prefix" biosdisk part_msdos ext2 search_fs_uuid ||
        die "grub-mkimage i386-pc"
    mv "$root/tmp/core.img" "$work/core.img"
    cp "$work/core.img" "$root/boot/grub/i386-pc/core.img"
    cp "$root/usr/lib/grub/i386-pc/boot.img" "$work/boot.img"
else
    cp -a "$root/usr/lib/grub/x86_64-efi" "$root/boot/grub/"
    in_root grub-mkimage -O x86_64-efi -o /tmp/grubx64.efi -c /tmp/load.cfg \
        -p "$grub_prefix" part_gpt part_msdos ext2 fat search_fs_uuid ||
        die "grub-mkimage x86_64-efi"
    mv "$root/tmp/grubx64.efi" "$work/grubx64.efi"
fi
rm -f "$root/tmp/load.cfg" "$root/usr/sbin/policy-rc.d"

# ------------------------------------------------------------------ disk
# A sparse raw image, partitioned with sfdisk; the file systems are made
# at their partitions' offsets in the image (mkfs.ext4 -E offset) or in
# a file copied in with dd conv=notrunc (the ESP).
disk=$work/disk.raw
truncate -s "$disk_size" "$disk"
case $table/$variant in
    gpt/*)
        printf '%s\n' 'label: gpt' \
            'start=2048, size=100MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System Partition"' \
            'type=0FC63DAF-8483-4772-8E79-3D69D8477DE4' ;;
    dos/lvm)
        printf '%s\n' 'label: dos' 'start=2048, size=512MiB, type=83, bootable' 'type=8e' ;;
    *)
        printf '%s\n' 'label: dos' 'start=2048, type=83, bootable' ;;
esac | sfdisk -q "$disk" >&2 || die "sfdisk"
# part N -> "START SIZE" in sectors
part() { sfdisk -d "$disk" | grep "^$disk$1 :" |
             sed -E 's/.*start= *([0-9]+), *size= *([0-9]+).*/\1 \2/'; }
mkext4() { # UUID DIR OFFSET_BYTES SIZE_BYTES
    mkfs.ext4 -q -F -U "$1" -d "$2" -E offset="$3" "$disk" "$(($4 / 1024))k" >&2 ||
        die "mkfs.ext4 -d $2"
}

case $variant in
    lvm)
        read -r bs bz < <(part 1)
        read -r ls lz < <(part 2)
        # The LVM physical volume, volume group and logical volume need
        # the kernel's device mapper: libguestfs's appliance does that
        # (a few seconds of work; its launch is most of the time).  The
        # root file system is then written on the host, at the LV's
        # first extent: one linear segment from the PV's pe_start.
        export LIBGUESTFS_BACKEND=direct
        if ! "$here/kvm-works.sh"; then
            export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
        fi
        log "$variant: LVM in the libguestfs appliance (${LIBGUESTFS_BACKEND_SETTINGS:-kvm})"
        guestfish --rw --format=raw -a "$disk" > "$work/lvm.out" <<GF || die "guestfish (LVM)"
run
pvcreate /dev/sda2
vgcreate $vg /dev/sda2
lvcreate-free root $vg 100
pvs-full
lvs-full
GF
        pe_start=$(awk '$1 == "pe_start:" { print $2 }' "$work/lvm.out")
        lv_size=$(awk '$1 == "lv_size:" { print $2 }' "$work/lvm.out")
        seg=$(awk '$1 == "seg_count:" { print $2 }' "$work/lvm.out")
        [ -n "$pe_start" ] && [ -n "$lv_size" ] && [ "$seg" = 1 ] ||
            die "unexpected LVM layout: $(cat "$work/lvm.out")"
        mv "$root/boot" "$work/boot"
        mkdir "$root/boot"
        mkext4 "$boot_uuid" "$work/boot" $((bs * 512)) $((bz * 512))
        mkext4 "$root_uuid" "$root" $((ls * 512 + pe_start)) "$lv_size"
        ;;
    uefi-gpt)
        read -r es ez < <(part 1)
        read -r rs rz < <(part 2)
        mkdir -p "$root/boot/efi"
        mkext4 "$root_uuid" "$root" $((rs * 512)) $((rz * 512))
        mkfs.vfat -C -F 32 -s 1 -n EFI -i "$efi_volid" "$work/esp.img" $((ez / 2)) >&2 ||
            die "mkfs.vfat"
        mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/debian
        mcopy -i "$work/esp.img" "$work/grubx64.efi" ::/EFI/BOOT/BOOTX64.EFI
        mcopy -i "$work/esp.img" "$work/grubx64.efi" ::/EFI/debian/grubx64.efi
        dd if="$work/esp.img" of="$disk" bs=512 seek="$es" conv=notrunc,sparse status=none
        ;;
    *)
        read -r rs rz < <(part 1)
        mkext4 "$root_uuid" "$root" $((rs * 512)) $((rz * 512))
        ;;
esac
if [ "$fw" = bios ]; then
    # boot.img's code into the MBR (its partition table stays); core.img
    # right after it, in the gap before the first partition.  boot.img
    # reads core.img's first sector from LBA 1 and that sector reads the
    # rest from LBA 2 on (grub-mkimage filled in the length): what
    # grub-bios-setup does when it embeds.  Its drive check becomes two
    # NOPs, as grub-bios-setup writes it for a hard disk.
    [ "$(stat -c %s "$work/core.img")" -lt $(((2048 - 1) * 512)) ] || die "core.img too large"
    dd if="$work/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
    printf '\220\220' | dd of="$disk" bs=1 seek=$((0x66)) conv=notrunc status=none
    dd if="$work/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none
fi
rm -rf "$root"

# ------------------------------------------------------- the VMware VM
mkdir "$work/out"
qemu-img convert -q -f raw -O vmdk "$disk" "$work/out/$variant.vmdk" ||
    die "qemu-img convert"
rm -f "$disk"
{
    printf '%s\n' '.encoding = "UTF-8"' 'config.version = "8"' \
        'virtualHW.version = "19"' "displayName = \"vmconv-$variant\"" \
        'guestOS = "debian12-64"' "firmware = \"$fw\"" 'memsize = "1024"' \
        'numvcpus = "1"'
    if [ "$bus" = sata ]; then
        printf '%s\n' 'sata0.present = "TRUE"' 'sata0:0.present = "TRUE"' \
            "sata0:0.fileName = \"$variant.vmdk\"" 'sata0:0.deviceType = "disk"'
    else
        printf '%s\n' 'scsi0.present = "TRUE"' 'scsi0.virtualDev = "lsilogic"' \
            'scsi0:0.present = "TRUE"' "scsi0:0.fileName = \"$variant.vmdk\"" \
            'scsi0:0.deviceType = "scsi-hardDisk"'
    fi
    printf '%s\n' 'ethernet0.present = "TRUE"' 'ethernet0.connectionType = "nat"' \
        'ethernet0.virtualDev = "e1000"' 'ethernet0.addressType = "static"' \
        "ethernet0.address = \"$mac\"" 'ethernet0.pciSlotNumber = "33"'
} > "$work/out/$variant.vmx"

case $net in
    dhcp) addr=10.0.2.15 ;;
    static) addr=192.168.122.50 ;;
    netplan) addr=192.168.122.51 ;;
esac
name_fix="the NIC is named ens33 by its VMware PCI slot and gets another name on KVM: keep ens33 (a .link file on the MAC)"
case $variant in
    bios-mbr) fix="$name_fix (dhcp, ifupdown allow-hotplug)" ;;
    uefi-gpt) fix="UEFI: GRUB on the ESP (EFI/BOOT/BOOTX64.EFI, EFI/debian/grubx64.efi); $name_fix" ;;
    lvm) fix="root on LVM ($root_lv), /boot a separate ext4; $name_fix" ;;
    fstab-sda) fix="fstab, grub.cfg root= and /etc/default/grub (GRUB_DISABLE_LINUX_UUID=true) name /dev/sda1, which is /dev/vda on virtio-blk; $name_fix" ;;
    modules-dep) fix="the initramfs lacks virtio_blk/virtio_pci/virtio_net (initramfs.conf MODULES=dep): regenerate it with them; $name_fix" ;;
    dracut) fix="the dracut image lacks virtio (dracut.conf.d hostonly=yes): regenerate it with the virtio drivers; $name_fix" ;;
    vmtools) fix="open-vm-tools installed and enabled: remove it; $name_fix" ;;
    ifupdown-static) fix="/etc/network/interfaces names ens33 (static 192.168.122.50/24, auto): $name_fix" ;;
    netplan) fix="netplan matches ens33 by name (static 192.168.122.51/24, systemd-networkd): $name_fix" ;;
esac
printf '%s\n' "EXPECT_IFACE=ens33" "EXPECT_ADDR=$addr" "FIRMWARE=$fw" \
    "NEEDS_FIX=\"$fix\"" "BUS=$bus" "MAC=$mac" "KERNEL=$kver" \
    "INITRD_VIRTIO_BLK=$has_virtio" > "$work/out/$variant.expect"

rm -rf "$out"
mv "$work/out" "$out"
# Builds of this variant by an older builder are dead weight (0.7 GB).
for old in "$cache/$variant"-????????????????; do
    [ "$old" != "$out" ] && [ -f "$old/$variant.expect" ] && rm -rf "$old"
done
log "$variant: built in $((SECONDS - t0)) s: $out"
echo "$out"
