#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv inspect --guest on the two test guests of guest-functions.sh
# (human and --json), and an interrupted conversion during guest
# inspection: exit 5, nbdkit stopped, its socket directory removed,
# the source unchanged; a disk inside an OVA.  Four appliance launches:
# run by make check-guest, not make check.
. "${srcdir:-.}/functions.sh"
. "${srcdir:-.}/guest-functions.sh"
requires_guest_tools
unset VMCONV_GUEST_FIX
export LIBGUESTFS_CACHEDIR=${LIBGUESTFS_CACHEDIR:-/var/tmp}
export TMPDIR=$tmp/tmpdir
mkdir -p "$TMPDIR"

make_guest ga virtio
make_guest gb novirtio
fa=$(fingerprint "$tmp/guests/ga/ga.vmdk")

"$VMCONV" inspect --guest "$tmp/guests/ga/ga.vmx" > "$tmp/ga.txt" ||
    fail "inspect --guest ga"
case $(grep '^guest: ' "$tmp/ga.txt") in
    "guest: not inspected: libguestfs"*)
        echo "SKIP: libguestfs cannot launch its appliance here:" \
             "$(grep '^guest: ' "$tmp/ga.txt")"
        exit 77 ;;
esac
for l in "name:        ga" \
         "guest: inspected (libguestfs appliance with" \
         "  root /dev/sda1: linux debian 12." \
         "    hostname:   ga" \
         "    packages:   deb (apt)" \
         "    firmware:   bios (partition table msdos)" \
         "    mounts:     / on /dev/sda1" \
         "      6.1.0-21-amd64: bootable, initramfs /boot/initrd.img-6.1.0-21-amd64, modules /lib/modules/6.1.0-21-amd64" \
         "        drivers: virtio_blk initramfs, virtio_scsi initramfs, virtio_net initramfs, virtio_pci initramfs" \
         "    virtio:     disk yes, scsi yes, net yes"; do
    grep -qxF -- "$l" "$tmp/ga.txt" || grep -qF -- "$l" "$tmp/ga.txt" ||
        { cat "$tmp/ga.txt"; fail "inspect ga: no '$l'"; }
done

# TCG asked for by the user (on any host): no KVM probe, the accelerator
# is tcg, and the appliance's kernel runs with norandmaps.
LIBGUESTFS_BACKEND_SETTINGS=force_tcg "$VMCONV" -v inspect --guest --json \
    "$tmp/guests/gb/gb.vmx" > "$tmp/gb.json" 2> "$tmp/gb.err" ||
    { tail -20 "$tmp/gb.err"; fail "inspect --guest --json gb"; }
grep -q "force_tcg is set in LIBGUESTFS_BACKEND_SETTINGS" "$tmp/gb.err" ||
    fail "inspect gb: force_tcg not seen"
# libguestfs's debug output comes in chunks: join them first.
sed 's/^vmconv: debug: libguestfs: //' "$tmp/gb.err" | tr -d '\n' |
    grep -q -- '-append "[^"]*norandmaps"' ||
    fail "inspect gb: the appliance's kernel has no norandmaps"
python3 - "$tmp/gb.json" <<'PY' || fail "inspect gb: JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["name"] == "gb", doc["name"]       # the model is still there
g = doc["guest"]
assert g["status"] == "inspected", g
assert g["accelerator"] == "tcg", g["accelerator"]
os = g["operating-systems"][0]
assert os["root"] == "/dev/sda2" and os["firmware"] == "uefi", os
k = [k for k in os["kernels"] if k["version"] == "6.1.0-22-amd64"][0]
assert k["initramfs"] == "/boot/initrd.img-6.1.0-22-amd64", k
assert k["modules"] == "/lib/modules/6.1.0-22-amd64", k
assert not k["drivers"]["virtio_blk"]["initramfs"], k
assert k["drivers"]["virtio_blk"]["module"], k
assert not os["virtio-blk"] and not os["virtio-net"], os
PY

# A disk inside an OVA, read in place (a byte range of the OVA, served
# by nbdkit with offset= and length=).
VMCONV_GUEST_FIX=no "$VMCONV" convert "$tmp/guests/ga/ga.vmx" --to vmware \
    -of ova -O "$tmp/ova" > /dev/null || fail "ga to an OVA"
fo=$(fingerprint "$tmp/ova/ga.ova")
"$VMCONV" inspect --guest --json "$tmp/ova/ga.ova" > "$tmp/ova.json" ||
    fail "inspect --guest --json ga.ova"
python3 - "$tmp/ova.json" <<'PY' || fail "inspect ga.ova: JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["disks"][0]["path"].startswith("range:"), doc["disks"][0]
g = doc["guest"]
assert g["status"] == "inspected", g
os = g["operating-systems"][0]
assert os["hostname"] == "ga" and os["virtio-blk"], os
PY
[ "$(fingerprint "$tmp/ova/ga.ova")" = "$fo" ] || fail "ga.ova changed"

# Without --guest nothing is inspected (and nothing launched).
"$VMCONV" inspect --json "$tmp/guests/gb/gb.vmx" > "$tmp/nog.json" ||
    fail "inspect --json"
python3 -c 'import json,sys; assert "guest" not in json.load(open(sys.argv[1]))' \
    "$tmp/nog.json" || fail "inspect without --guest has a guest object"

# SIGINT while the guest is inspected: exit 5, nothing left running or
# on disk.
"$VMCONV" convert "$tmp/guests/ga/ga.vmx" --to kvm -O "$tmp/out-int" \
    > "$tmp/int.out" 2>&1 &
pid=$!
for i in $(seq 600); do
    ls "$TMPDIR" 2>/dev/null | grep -q '^vmconv-nbd' && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
ls "$TMPDIR" | grep -q '^vmconv-nbd' || { cat "$tmp/int.out"; fail "nbdkit did not start"; }
sleep 2
kill -INT $pid
rc=0
wait $pid || rc=$?
[ $rc -eq 5 ] || { cat "$tmp/int.out"; fail "interrupted: exit $rc, not 5"; }
[ ! -e "$tmp/out-int" ] || fail "interrupted: OUTDIR exists"
sleep 0.5
left=$(ls -A "$TMPDIR")
[ -z "$left" ] || fail "interrupted: left in TMPDIR: $left"
if pgrep -f "$TMPDIR/vmconv-nbd" > /dev/null; then
    fail "interrupted: nbdkit still running"
fi
[ "$(fingerprint "$tmp/guests/ga/ga.vmdk")" = "$fa" ] || fail "ga.vmdk changed"
echo "PASS: inspect --guest, and an interrupted inspection cleans up"
