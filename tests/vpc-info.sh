#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHD info fields, and the virtual size rule of current upstream qemu:
# CHS geometry only for creators "vpc " and "qemu" (unless the geometry
# is the largest), the footer's current size for everyone else.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
patch_vhd() { python3 "$srcdir/vpc-patch.py" "$@"; }

# field IMAGE KEY...: the value at that path of our info JSON.
field() {
    local img=$1
    shift
    "$IMGTOOL" info "$img" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[k]
print(json.dumps(v) if isinstance(v, (bool, dict, list)) or v is None else v)
' "$@"
}
is() {
    local got
    got=$(field "$1" "${@:3}")
    [ "$got" = "$2" ] || fail "$1: ${*:3} is '$got', want '$2'"
}

img=$tmp/dyn.vhd
qemu_img create -q -f vpc -o subformat=dynamic,force_size=on "$img" 10M
# qemu's force_size writes the largest geometry; that is a CHS size too.
is "$img" 136899993600 chs-size
is "$img" 65535 geometry cylinders
# The geometry Windows writes for 10 MiB.
patch_vhd "$img" footer cylinders 301
patch_vhd "$img" footer heads 4
patch_vhd "$img" footer sectors 17
is "$img" dynamic subformat
is "$img" 2097152 cluster-size
is "$img" qem2 creator-app
is "$img" 5.3 creator-version
is "$img" Wi2k creator-os
is "$img" 10485760 virtual-size
is "$img" 10485760 current-size
is "$img" 10479616 chs-size
is "$img" current-size virtual-size-from
is "$img" 301 geometry cylinders
is "$img" 4 geometry heads
is "$img" 17 geometry sectors
is "$img" false saved-state
field "$img" uuid | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' ||
    fail "uuid is not formatted"

# Virtual PC: the CHS size.
cp "$img" "$tmp/vpc.vhd"; patch_vhd "$tmp/vpc.vhd" footer creator_app "vpc "
is "$tmp/vpc.vhd" 10479616 virtual-size
is "$tmp/vpc.vhd" chs virtual-size-from
# Virtual Server "vs  ": the current size (qemu before 2025 said CHS).
cp "$img" "$tmp/vs.vhd"; patch_vhd "$tmp/vs.vhd" footer creator_app "vs  "
is "$tmp/vs.vhd" 10485760 virtual-size
# "qemu" with the largest geometry: the current size.
cp "$img" "$tmp/max.vhd"
patch_vhd "$tmp/max.vhd" footer creator_app qemu
patch_vhd "$tmp/max.vhd" footer cylinders 65535
patch_vhd "$tmp/max.vhd" footer heads 16
patch_vhd "$tmp/max.vhd" footer sectors 255
is "$tmp/max.vhd" 10485760 virtual-size
# XenServer's "tap\0": shown escaped.
cp "$img" "$tmp/tap.vhd"; patch_vhd "$tmp/tap.vhd" footer creator_app 0x74617000
is "$tmp/tap.vhd" 'tap\x00' creator-app
is "$tmp/tap.vhd" 10485760 virtual-size
# Saved state: reported, with a warning.
cp "$img" "$tmp/saved.vhd"; patch_vhd "$tmp/saved.vhd" footer saved_state 1
is "$tmp/saved.vhd" true saved-state
"$IMGTOOL" info "$tmp/saved.vhd" 2>&1 >/dev/null | grep -q "warning: .*saved.vhd: the VM was in a saved state" ||
    fail "saved state: no warning"

# Fixed: no blocks, so no cluster size.
qemu_img create -q -f vpc -o subformat=fixed "$tmp/fixed.vhd" 4M
is "$tmp/fixed.vhd" fixed subformat
is "$tmp/fixed.vhd" qemu creator-app
is "$tmp/fixed.vhd" chs virtual-size-from
"$IMGTOOL" info "$tmp/fixed.vhd" | grep -q cluster-size && fail "fixed: has a cluster size"
exit 0
