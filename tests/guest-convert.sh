#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest conversion (core/guest/): two small Debian 12 guests built here
# (guest-functions.sh), one whose initramfs carries the virtio drivers
# and one whose initramfs does not (they are only modules, and it has
# no tool to rebuild it), each a VMware VM on SATA with an e1000 NIC,
# converted to KVM.  The plan inspects each guest on its source disk
# (nbdkit with the cow filter, libguestfs), the fix runs in the same
# appliance (two launches in all), and the copy reads the fixed guest
# from nbdkit's overlay.  ga gets virtio-blk and virtio-net, gb a SATA
# disk (a risk says why) and virtio-net; both fstabs name /dev/sdaN,
# which the converted disks name by UUID while the sources keep theirs.
# nbdkit and its socket directory are gone afterwards.  Without the
# guest fix (--no-guest-fix, VMCONV_GUEST_FIX=no) nothing is inspected.
# Skips (77) when libguestfs cannot launch its appliance here.
. "${srcdir:-.}/functions.sh"
. "${srcdir:-.}/guest-functions.sh"
requires_guest_tools
requires debugfs
unset VMCONV_GUEST_FIX
# libguestfs keeps its appliance in its cache (TMPDIR by default): keep
# it where it is reused, not in this test's TMPDIR, which must be left
# empty.
export LIBGUESTFS_CACHEDIR=${LIBGUESTFS_CACHEDIR:-/var/tmp}
export TMPDIR=$tmp/tmpdir
mkdir -p "$TMPDIR"

make_guest ga virtio
make_guest gb novirtio
fa=$(fingerprint "$tmp/guests/ga/ga.vmdk")
fb=$(fingerprint "$tmp/guests/gb/gb.vmdk")

# Without the guest fix: no inspection (a dry run, no launch).
for how in --no-guest-fix env; do
    if [ $how = env ]; then
        VMCONV_GUEST_FIX=no "$VMCONV" convert "$tmp/guests/ga/ga.vmx" \
            --to kvm -O "$tmp/out-no" --dry-run --json > "$tmp/no.json" ||
            fail "dry run with VMCONV_GUEST_FIX=no"
    else
        "$VMCONV" convert "$tmp/guests/ga/ga.vmx" --to kvm -O "$tmp/out-no" \
            --dry-run --json --no-guest-fix > "$tmp/no.json" ||
            fail "dry run with --no-guest-fix"
    fi
    python3 - "$tmp/no.json" <<'PY' || fail "$how: plan"
import json, sys
r = json.load(open(sys.argv[1]))
g = r["guest-fix"]
assert g["status"] == "skipped (--no-guest-fix)", g
assert "inspection" not in g, g
assert not any(d["to"] == "virtio" for d in r["devices"]), r["devices"]
PY
done

# An nbdkit that cannot start: the guest is not inspected, the
# conversion goes on with emulated devices and says why (no launch).
VMCONV_NBDKIT=/bin/false "$VMCONV" convert "$tmp/guests/ga/ga.vmx" --to kvm \
    -O "$tmp/out-nonbd" --dry-run --json > "$tmp/nonbd.json" ||
    fail "dry run with a failing nbdkit"
python3 - "$tmp/nonbd.json" <<'PY' || fail "failing nbdkit: plan"
import json, sys
r = json.load(open(sys.argv[1]))
st = r["guest-fix"]["inspection"]["status"]
assert st.startswith("not inspected: ") and "nbdkit" in st, st
assert not any(d["to"] == "virtio" for d in r["devices"]), r["devices"]
assert any(k["id"] == "drivers" for k in r["risks"]), r["risks"]
PY

convert() {
    local n=$1
    "$VMCONV" convert "$tmp/guests/$n/$n.vmx" --to kvm -O "$tmp/out-$n" \
        > "$tmp/$n.out" 2>&1 || { cat "$tmp/$n.out"; fail "convert $n"; }
}
convert ga
st=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["guest-fix"]["inspection"]["status"])' \
    "$tmp/out-ga/ga.report.json")
case $st in
    "not inspected: libguestfs"*)
        echo "SKIP: libguestfs cannot launch its appliance here: $st"
        exit 77 ;;
esac
convert gb

python3 - "$tmp/out-ga/ga.report.json" "$tmp/out-gb/gb.report.json" <<'PY' ||
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
for r, name, virtio in ((a, "ga", True), (b, "gb", False)):
    g = r["guest-fix"]
    i = g["inspection"]
    assert i["status"] == "inspected", i
    assert i["accelerator"] in ("kvm", "tcg"), i
    assert len(i["operating-systems"]) == 1, i
    os = i["operating-systems"][0]
    assert os["type"] == "linux" and os["distro"] == "debian", os
    assert os["version"].startswith("12."), os
    assert os["arch"] == "x86_64", os
    assert os["package-format"] == "deb", os
    assert os["package-management"] == "apt", os
    assert os["hostname"] == name, os
    ks = {k["version"]: k for k in os["kernels"]}
    assert len(ks) == 2, os
    if virtio:
        # 6.1.0-20 has neither initramfs nor modules: it does not count.
        old = ks["6.1.0-20-amd64"]
        assert not old["bootable"], old
        assert old["initramfs"] is None and old["modules"] is None, old
        k = ks["6.1.0-21-amd64"]
    else:
        # 6.1.0-18 has virtio in its initramfs, 6.1.0-22 does not.
        old = ks["6.1.0-18-amd64"]
        assert old["bootable"], old
        assert old["drivers"]["virtio_blk"]["initramfs"], old
        assert old["drivers"]["virtio_net"]["initramfs"], old
        k = ks["6.1.0-22-amd64"]
    assert k["bootable"], k
    for d in ("virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"):
        assert k["drivers"][d]["module"], (d, k)
        assert k["drivers"][d]["initramfs"] == virtio, (d, k)
        assert not k["drivers"][d]["built-in"], (d, k)
    assert os["virtio-blk"] == virtio and os["virtio-net"] == virtio, os
    # ga carries virtio in its initramfs; gb has the modules but no tool
    # to rebuild its initramfs: its disk stays on SATA (a risk says so),
    # while its NIC, whose driver needs no initramfs, gets virtio.
    assert os["virtio-blk-after-fix"] == virtio, os
    assert os["virtio-net-after-fix"], os
    assert os["initramfs-tool"] is None, os
    assert g["status"] == "done", g
    devs = {d["device"]: d["to"] for d in r["devices"]}
    assert devs.get("nics[0].model") == "virtio", devs
    if virtio:
        assert devs.get("disks[0].bus") == "virtio", devs
        assert not any(k["id"] == "virtio" for k in r["risks"]), r["risks"]
    else:
        assert devs.get("disks[0].bus") is None, devs
        assert any(k["id"] == "virtio" for k in r["risks"]), r["risks"]
    # The fstab names /dev/sda1 (and gb's /dev/sda2): now by UUID.
    ch = g["changes"]
    assert any(c.startswith("/etc/fstab: ") and "by UUID" in c
               for c in ch), ch
    # Nothing needed rebuilding: no initramfs was touched.
    assert not any("initrd" in c for c in ch), ch
    # No QEMU guest agent in these guests: the report says so.
    assert any(c.startswith("qemu-guest-agent: not installed") for c in ch), ch
assert a["guest-fix"]["inspection"]["operating-systems"][0]["root"] == "/dev/sda1"
oa = a["guest-fix"]["inspection"]["operating-systems"][0]
ob = b["guest-fix"]["inspection"]["operating-systems"][0]
assert oa["firmware"] == "bios" and oa["partition-table"] == "msdos", oa
assert ob["root"] == "/dev/sda2", ob
assert ob["firmware"] == "uefi" and ob["partition-table"] == "gpt", ob
assert ob["efi-system-partition"] == "/dev/sda1", ob
assert ob["mountpoints"] == {"/": "/dev/sda2", "/boot/efi": "/dev/sda1"}, ob
# gb's initramfs (microcode cpio + zstd'd cpio) was read: its files.
k22 = [k for k in ob["kernels"] if k["version"] == "6.1.0-22-amd64"][0]
assert k22["initramfs-files"] >= 5, k22
PY
    fail "the reports"

# The domains: virtio for ga, a SATA disk and a virtio NIC for gb
# (whose newest kernel lacks the disk drivers in its initramfs, and
# which has no tool to rebuild it).
grep -q '<target dev="vda" bus="virtio"/>' "$tmp/out-ga/ga.xml" ||
    { cat "$tmp/out-ga/ga.xml"; fail "ga: no virtio disk"; }
grep -q '<model type="virtio"/>' "$tmp/out-ga/ga.xml" ||
    { cat "$tmp/out-ga/ga.xml"; fail "ga: no virtio NIC"; }
grep -q '<target dev="sda" bus="sata"/>' "$tmp/out-gb/gb.xml" ||
    { cat "$tmp/out-gb/gb.xml"; fail "gb: no SATA disk"; }
grep -q '<model type="virtio"/>' "$tmp/out-gb/gb.xml" ||
    { cat "$tmp/out-gb/gb.xml"; fail "gb: no virtio NIC"; }
grep -q 'bus="virtio"' "$tmp/out-gb/gb.xml" &&
    { cat "$tmp/out-gb/gb.xml"; fail "gb: a virtio disk"; }

# The converted disks hold the fixed fstab (read with debugfs, no
# appliance); the source disks keep theirs.
fstab_of() {   # IMAGE PARTITION -> the fstab in that ext4 partition
    local raw=$tmp/fstab.raw start
    qemu-img convert -O raw "$1" "$raw" || fail "qemu-img convert $1"
    start=$(sfdisk -J "$raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"]['"$2"'-1]["start"])')
    dd if="$raw" of="$tmp/fstab.part" bs=512 skip="$start" status=none
    debugfs -R "cat /etc/fstab" "$tmp/fstab.part" 2>/dev/null
    rm -f "$raw" "$tmp/fstab.part"
}
fa_fstab=$(fstab_of "$tmp/out-ga/ga-disk1.qcow2" 1)
case $fa_fstab in
    "UUID="*" / ext4 errors=remount-ro 0 1") ;;
    *) fail "ga: converted fstab: $fa_fstab" ;;
esac
[ "$(fstab_of "$tmp/guests/ga/ga.vmdk" 1)" = \
  "/dev/sda1 / ext4 errors=remount-ro 0 1" ] || fail "ga: source fstab"

# What people read: the plan's guest lines and the honest warning.
for l in "guest: inspected (libguestfs appliance with" \
         "root /dev/sda1: linux debian 12." \
         "virtio:     disk yes, scsi yes, net yes"; do
    grep -qF -- "$l" "$tmp/ga.out" || { cat "$tmp/ga.out"; fail "ga: no '$l'"; }
done
for l in "root /dev/sda2: linux debian 12." \
         "firmware:   uefi (partition table gpt, EFI system partition /dev/sda1)" \
         "drivers: virtio_blk module only" \
         "virtio:     disk no, scsi no, net no"; do
    grep -qF -- "$l" "$tmp/gb.out" || { cat "$tmp/gb.out"; fail "gb: no '$l'"; }
done

# The sources were not written; nbdkit and its directories are gone.
[ "$(fingerprint "$tmp/guests/ga/ga.vmdk")" = "$fa" ] || fail "ga.vmdk changed"
[ "$(fingerprint "$tmp/guests/gb/gb.vmdk")" = "$fb" ] || fail "gb.vmdk changed"
left=$(ls -A "$TMPDIR")
[ -z "$left" ] || fail "left in TMPDIR: $left"
if pgrep -f "$TMPDIR/vmconv-nbd" > /dev/null; then
    fail "an nbdkit of this test is still running"
fi
echo "PASS: guest inspection chose virtio for ga only"
