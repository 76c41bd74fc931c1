# SPDX-License-Identifier: LGPL-2.1-or-later
# Small Linux test guests for the guest-conversion tests (guest-*.sh),
# built here from nothing downloaded: a root tree (os-release, fstab,
# hostname, a kernel file, an initramfs made with cpio, module files
# under /lib/modules) put into an ext4 file system with mke2fs -d at a
# partition's offset (no loop devices), presented as a VMware VM (a
# .vmx with the disk on SATA and an e1000 NIC).  Source after
# functions.sh.
#
#   make_guest NAME virtio|novirtio  ->  $tmp/guests/NAME/NAME.vmx
#
# virtio:   Debian 12, MBR, root /dev/sda1, kernel 6.1.0-21-amd64 whose
#           initramfs (one gzip'd newc cpio) carries virtio_blk,
#           virtio_scsi, virtio_net and virtio_pci; and a kernel
#           6.1.0-20-amd64 left without initramfs or modules (it cannot
#           boot, so it does not count).
# novirtio: Debian 12, GPT with an EFI system partition, root /dev/sda2,
#           kernel 6.1.0-22-amd64 whose initramfs (an uncompressed cpio
#           with CPU microcode, then a zstd'd one, as Debian writes
#           them) carries ahci and e1000e only; the virtio modules are
#           in /lib/modules, not in the initramfs.  Its older kernel
#           6.1.0-18-amd64 has them in its initramfs: not every
#           bootable kernel has them, so the guest counts as without.
# Built once per test run, in $tmp/guests.

requires_guest_tools() {
    requires mke2fs sfdisk cpio gzip zstd python3 nbdkit
    skip_under_sanitizer "nbdkit (built without one) cannot load the" \
        "vmconv plugin built with AddressSanitizer; the plain build runs this test"
    requires_qemu_img
    if [ ! -f "${VMCONV_NBDKIT_PLUGIN:-/nonexistent}" ]; then
        echo "SKIP: the nbdkit plugin was not built ($VMCONV_NBDKIT_PLUGIN)"
        exit 77
    fi
}

# guest_cpio DIR: DIR's contents as a newc cpio archive on stdout.
guest_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc \
         --quiet --owner=0:0)
}

# guest_old_kernel ROOT WORK VERSION: a bootable kernel VERSION in ROOT
# whose gzip'd initramfs carries the virtio drivers.
guest_old_kernel() {
    local root=$1 w=$2 ver=$3 m
    echo "an old kernel: a test file" > "$root/boot/vmlinuz-$ver"
    mkdir -p "$root/lib/modules/$ver/kernel/drivers" "$w"
    echo "#!/bin/sh" > "$w/init"
    for m in block/virtio_blk scsi/virtio_scsi net/virtio_net \
             virtio/virtio_pci; do
        mkdir -p "$root/lib/modules/$ver/kernel/drivers/${m%/*}" \
                 "$w/lib/modules/$ver/kernel/drivers/${m%/*}"
        echo "$m" > "$root/lib/modules/$ver/kernel/drivers/$m.ko"
        echo "$m" > "$w/lib/modules/$ver/kernel/drivers/$m.ko"
    done
    guest_cpio "$w" | gzip -9n > "$root/boot/initrd.img-$ver"
}

make_guest() {
    local name=$1 kind=$2 d=$tmp/guests/$1 root ird ver m
    [ -f "$d/$name.vmx" ] && return 0
    mkdir -p "$d"
    root=$d/root ird=$d/initrd
    if [ "$kind" = virtio ]; then ver=6.1.0-21-amd64; else ver=6.1.0-22-amd64; fi
    mkdir -p "$root"/{etc,boot,bin,usr/bin,root,tmp,var/lib/dpkg} \
             "$root/lib/modules/$ver/kernel/drivers"/{block,scsi,net,virtio,ata,net/ethernet/intel/e1000e}
    cat > "$root/etc/os-release" <<'OS'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
OS
    echo 12.5 > "$root/etc/debian_version"
    echo "$name" > "$root/etc/hostname"
    : > "$root/var/lib/dpkg/status"
    cp /bin/sh "$root/bin/sh"
    cp /bin/ls "$root/bin/ls"
    cp /bin/sh "$root/bin/bash"
    if [ "$kind" = virtio ]; then
        echo "/dev/sda1 / ext4 errors=remount-ro 0 1" > "$root/etc/fstab"
    else
        printf '%s\n' "/dev/sda2 / ext4 errors=remount-ro 0 1" \
            "/dev/sda1 /boot/efi vfat umask=0077 0 1" > "$root/etc/fstab"
    fi
    echo "not a kernel: a test file" > "$root/boot/vmlinuz-$ver"
    if [ "$kind" = virtio ]; then
        echo "not a kernel either" > "$root/boot/vmlinuz-6.1.0-20-amd64"
    else
        guest_old_kernel "$root" "$ird/old" 6.1.0-18-amd64
    fi
    for m in block/virtio_blk scsi/virtio_scsi net/virtio_net \
             virtio/virtio_pci ata/ahci net/ethernet/intel/e1000e/e1000e; do
        echo "module $m" > "$root/lib/modules/$ver/kernel/drivers/$m.ko"
    done
    # modules.builtin: none of the drivers looked for is built in.
    echo "kernel/drivers/tty/serial/8250/8250.ko" \
        > "$root/lib/modules/$ver/modules.builtin"

    mkdir -p "$ird/main/usr/lib/modules/$ver/kernel/drivers" \
             "$ird/main/scripts" "$ird/early/kernel/x86/microcode"
    echo "#!/bin/sh" > "$ird/main/init"
    if [ "$kind" = virtio ]; then
        for m in block/virtio_blk scsi/virtio_scsi net/virtio_net \
                 virtio/virtio_pci; do
            mkdir -p "$ird/main/usr/lib/modules/$ver/kernel/drivers/${m%/*}"
            echo "$m" > "$ird/main/usr/lib/modules/$ver/kernel/drivers/$m.ko"
        done
        guest_cpio "$ird/main" | gzip -9n > "$root/boot/initrd.img-$ver"
    else
        for m in ata/ahci net/e1000e; do
            mkdir -p "$ird/main/usr/lib/modules/$ver/kernel/drivers/${m%/*}"
            echo "$m" > "$ird/main/usr/lib/modules/$ver/kernel/drivers/$m.ko"
        done
        echo "microcode" > "$ird/early/kernel/x86/microcode/GenuineIntel.bin"
        { guest_cpio "$ird/early"; guest_cpio "$ird/main" | zstd -q -c; } \
            > "$root/boot/initrd.img-$ver"
    fi

    # The disk: 64 MiB, a partition table, ext4 root from the tree.
    truncate -s 64M "$d/disk.raw"
    if [ "$kind" = virtio ]; then
        printf 'label: dos\nstart=2048, type=83, bootable\n' |
            sfdisk -q "$d/disk.raw" >/dev/null
        mke2fs -q -F -t ext4 -L root -E offset=$((2048 * 512)) \
            -d "$root" "$d/disk.raw" 60M >/dev/null
    else
        printf '%s\n' 'label: gpt' \
            'start=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' \
            'start=18432, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4' |
            sfdisk -q "$d/disk.raw" >/dev/null
        mke2fs -q -F -t ext4 -L root -E offset=$((18432 * 512)) \
            -d "$root" "$d/disk.raw" 52M >/dev/null
    fi
    "$QEMU_IMG_BIN" convert -q -f raw -O vmdk "$d/disk.raw" "$d/$name.vmdk"
    rm -rf "$root" "$ird" "$d/disk.raw"
    cat > "$d/$name.vmx" <<VMX
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "$name"
guestOS = "debian12-64"
firmware = "$([ "$kind" = virtio ] && echo bios || echo efi)"
memsize = "512"
numvcpus = "1"
sata0.present = "TRUE"
sata0:0.present = "TRUE"
sata0:0.fileName = "$name.vmdk"
sata0:0.deviceType = "disk"
ethernet0.present = "TRUE"
ethernet0.connectionType = "nat"
ethernet0.virtualDev = "e1000"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:00:00:0$([ "$kind" = virtio ] && echo 1 || echo 2)"
VMX
}
