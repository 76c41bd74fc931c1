#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHD differencing disks, built by tests/vpc-make-diff.py from the
# specification (qemu can neither make nor read them): the child reads
# through its parent exactly as expected, whichever locator leads to
# the parent; wrong parent IDs, paths leaving the directory and broken
# locators are refused with one clear error.
. "$srcdir/functions.sh"
requires python3
make_diff() { python3 "$srcdir/vpc-make-diff.py" "$@"; }

# readcmp NAME CHILD EXPECTED: our read of CHILD must equal EXPECTED.
readcmp() {
    "$IMGTOOL" read "$2" "$tmp/out.raw" || fail "$1: read failed"
    cmp "$tmp/out.raw" "$3" || fail "$1: data differs from the expected"
}

# must_fail NAME TEXT CMD...: exit 1, one message naming the child and TEXT.
must_fail() {
    local name=$1 want=$2 rc=0
    shift 2
    "$@" > "$tmp/fail.out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/fail.out"; fail "$name: exit $rc, not 1"; }
    grep -q "child.vhd: .*$want" "$tmp/fail.out" ||
        { cat "$tmp/fail.out"; fail "$name: message lacks '$want'"; }
}

# The default chain: W2ru ".\parent.vhd", W2ku, header parent name.
d=$tmp/base
make_diff "$d"
readcmp base "$d/child.vhd" "$d/expected.raw"
readcmp parent "$d/parent.vhd" "$d/parent.raw"
IMGTOOL_FLAGS=nobacking readcmp nobacking "$d/child.vhd" "$d/child-only.raw"
"$IMGTOOL" info "$d/child.vhd" > "$tmp/info"
grep -q '"subformat": "differencing"' "$tmp/info" || fail "info: subformat"
grep -q '"parent-name": "./parent.vhd"' "$tmp/info" || fail "info: parent-name"
grep -q '"parent-uuid": "' "$tmp/info" || fail "info: parent-uuid"
grep -q '"backing": {' "$tmp/info" || fail "info: no backing"
"$IMGTOOL" check "$d/child.vhd" > "$tmp/check" || { cat "$tmp/check"; fail "check of the child"; }
"$IMGTOOL" check "$d/parent.vhd" > "$tmp/check" || { cat "$tmp/check"; fail "check of the parent"; }
# Block status through the chain: the child's map covers the disk, and
# its data runs read back the expected bytes (read uses the map).
"$IMGTOOL" map "$d/child.vhd" | awk '{ s += $2 } END { exit s != 6292992 }' ||
    fail "map does not cover the disk"

# W2ku alone (an absolute Windows path): its file name, beside the child.
d=$tmp/w2ku
make_diff "$d" --w2ru '' --pname ''
readcmp w2ku "$d/child.vhd" "$d/expected.raw"

# W2ru names a missing file: W2ku's file name is next.
d=$tmp/fallback
make_diff "$d" --w2ru '.\gone.vhd' --pname ''
readcmp fallback "$d/child.vhd" "$d/expected.raw"

# The header's parent name alone (UTF-16BE), non-ASCII with a
# character outside the BMP (a surrogate pair).
d=$tmp/pname
make_diff "$d" --w2ru '' --w2ku '' --pname 'pàrent-😀.vhd' --parent-file 'pàrent-😀.vhd'
readcmp pname "$d/child.vhd" "$d/expected.raw"

# Names differing from the files only in case (a disk copied off
# Windows): found, as VHDX parents always were.
d=$tmp/case
make_diff "$d" --w2ru '.\PARENT.VHD' --w2ku '' --pname ''
readcmp case "$d/child.vhd" "$d/expected.raw"
d=$tmp/case-w2ku
make_diff "$d" --w2ru '' --w2ku 'C:\VMs\Parent.Vhd' --pname ''
readcmp case-w2ku "$d/child.vhd" "$d/expected.raw"

# A relative path into a subdirectory, and a MacX URL with %-escapes.
d=$tmp/subdir
make_diff "$d" --w2ru '.\disks\base.vhd' --w2ku '' --pname '' --parent-file disks/base.vhd
readcmp subdir "$d/child.vhd" "$d/expected.raw"
d=$tmp/macx
make_diff "$d" --w2ru '' --w2ku '' --pname '' --macx 'file://localhost/Users/me/VMs/my%20parent.vhd' \
    --parent-file 'my parent.vhd'
readcmp macx "$d/child.vhd" "$d/expected.raw"

# Wrong parent unique ID: refused; read anyway when asked, with a warning.
d=$tmp/uuid
make_diff "$d" --wrong-uuid
must_fail wrong-uuid "parent .*parent.vhd does not match: unique ID mismatch: this image records parent unique ID .*, the parent has unique ID" \
    "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw"
IMGTOOL_FLAGS=ignoreparent "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw" 2> "$tmp/warn" ||
    fail "ignoreparent: read failed"
cmp "$tmp/out.raw" "$d/expected.raw" || fail "ignoreparent: data"
grep -q "warning: .*child.vhd: parent .* does not match: unique ID mismatch" "$tmp/warn" || fail "ignoreparent: no warning"

# A locator leading outside the child's directory: refused, even
# though the file is there; followed only when allowed.
d=$tmp/outside
make_diff "$d" --child-file in/child.vhd --parent-file out/parent.vhd \
    --w2ru '..\out\parent.vhd' --w2ku '' --pname ''
must_fail outside "leads outside the image's directory" \
    "$IMGTOOL" read "$d/in/child.vhd" "$tmp/out.raw"
IMGTOOL_FLAGS=outside readcmp outside-allowed "$d/in/child.vhd" "$d/expected.raw"

# No parent anywhere: the names tried are listed.
d=$tmp/missing
make_diff "$d"
rm "$d/parent.vhd"
must_fail missing "parent of this differencing disk not found in .*: tried './parent.vhd' (W2ru parent locator), 'C:/Hyper-V/Disks/parent.vhd' (W2ku parent locator), 'parent.vhd' (header parent name)" \
    "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw"

# A locator whose data runs past the end of the file.
d=$tmp/badloc
make_diff "$d" --bad-locator
must_fail bad-locator "parent locator 0 (W2ru) at offset .* is outside the file" \
    "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw"

# Neither locator nor name.
d=$tmp/noname
make_diff "$d" --w2ru '' --w2ku '' --pname ''
must_fail no-name "differencing disk names no parent" \
    "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw"

# A child that is its own parent: the loop is refused.
d=$tmp/loop
make_diff "$d" --w2ru '.\child.vhd' --w2ku '' --pname ''
must_fail loop "backing chain loops\|unique ID" "$IMGTOOL" read "$d/child.vhd" "$tmp/out.raw"
exit 0
