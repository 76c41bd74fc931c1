#!/bin/bash
# The README's quick-start conversion: samples/disks/demo.vmdk (VMware
# streamOptimized) to qcow2; the guest data must be the sha256 recorded
# in samples/README.md, and qemu-img must accept the output.
. "$srcdir/functions.sh"
requires_qemu_img
V=$VMCONV
in=$top_srcdir/samples/disks/demo.vmdk
want=$(grep -o '`[0-9a-f]\{64\}`' "$top_srcdir/samples/README.md" | tr -d '`')
[ -n "$want" ] || fail "no sha256 in samples/README.md"

$V disk convert -O qcow2 "$in" "$tmp/demo.qcow2"
qemu_img check "$tmp/demo.qcow2" >/dev/null || fail "qemu-img check"
$V disk convert -O raw "$tmp/demo.qcow2" "$tmp/demo.raw"
[ "$(sha "$tmp/demo.raw")" = "$want" ] || fail "guest data differs"
qemu_img compare "$in" "$tmp/demo.qcow2" >/dev/null || fail "qemu-img compare"
$V disk info "$in" | grep -q 'streamOptimized' || fail "info: no subformat"
