#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Differencing VHDX (.avhdx).  qemu-img cannot make or read them, so
# vhdx-make-diff.py writes them from the spec with the flat raw image
# each implies; our read of the child must equal that raw.  The
# generator's base images are checked against qemu-img, so it is not
# merely agreeing with itself.
. "$srcdir/functions.sh"
requires python3
PY=$(python3 -c 'import sys; print(sys.executable)')
gen() { "$PY" "$srcdir/vhdx-make-diff.py" "$@" || fail "vhdx-make-diff.py $*"; }
scmp() { "$PY" "$srcdir/vhdx-make-diff.py" cmp "$@"; }
have_qemu=no
if [ -n "${QEMU_IMG:-}" ] && [ "$QEMU_IMG" != no ] && [ -x "$QEMU_IMG" ]; then
    have_qemu=yes
fi

# 4 GiB + 8 MiB, 1 MiB blocks: two sector bitmap chunks; PARTIALLY,
# FULLY, ZERO, UNMAPPED, UNDEFINED and NOT_PRESENT blocks.
d=$tmp/diff
gen diff "$d"
before=$(fingerprint "$d/parent.vhdx")
if [ $have_qemu = yes ]; then
    # The parent is a plain dynamic VHDX: qemu-img must agree with the
    # generator about it (windows around the blocks: qemu reads
    # without block status).
    for start in 0 $((4094 * 1048576)); do
        "$QEMU_IMG" convert -O raw --image-opts \
            "driver=raw,offset=$start,size=$((10 * 1048576)),file.driver=vhdx,file.file.driver=file,file.file.filename=$d/parent.vhdx" \
            "$tmp/seg.raw" || fail "qemu-img reading the generated parent"
        cmp -n $((10 * 1048576)) -i 0:$start "$tmp/seg.raw" "$d/parent.raw" ||
            fail "qemu-img and the generator disagree about the parent"
    done
    # ...and refuses the child, as expected of qemu.
    if "$QEMU_IMG" info "$d/child.avhdx" > /dev/null 2>&1; then
        echo "note: this qemu-img opens differencing VHDX"
    fi
fi
$IMGTOOL read "$d/child.avhdx" "$tmp/ours.raw" || fail "read child"
scmp "$tmp/ours.raw" "$d/child.raw" || fail "child differs from the generator's raw"
$IMGTOOL read "$d/parent.vhdx" "$tmp/ours.raw" || fail "read parent"
scmp "$tmp/ours.raw" "$d/parent.raw" || fail "parent differs"
[ "$(fingerprint "$d/parent.vhdx")" = "$before" ] || fail "parent changed"
# Block status: ZERO blocks hide the parent, NOT_PRESENT shows it.
$IMGTOOL map "$d/child.avhdx" > "$tmp/map" || fail "map child"
grep -q "^2097152 1048576 zero$" "$tmp/map" || { cat "$tmp/map"; fail "map: ZERO block 2"; }
grep -q "^3145728 1048576 data$" "$tmp/map" || { cat "$tmp/map"; fail "map: block 3 from the parent"; }
grep -q "^7340032 .* hole$" "$tmp/map" || { cat "$tmp/map"; fail "map: hole"; }
$IMGTOOL info "$d/child.avhdx" > "$tmp/info" || fail "info child"
grep -q '"subformat": "differencing"' "$tmp/info" || fail "info: subformat"
grep -q '"relative_path": "parent.vhdx"' "$tmp/info" || fail "info: locator"
grep -q '"parent-linkage": "{' "$tmp/info" || fail "info: linkage"
grep -q '"backing": {' "$tmp/info" || fail "info: backing"
$IMGTOOL check "$d/child.avhdx" > "$tmp/check" || { cat "$tmp/check"; fail "check child"; }
# Without its parent (nobacking), NOT_PRESENT reads as zeros.
IMGTOOL_FLAGS=nobacking $IMGTOOL read "$d/child.avhdx" "$tmp/nb.raw" ||
    fail "read child without parent"
if scmp "$tmp/nb.raw" "$d/child.raw" > /dev/null; then
    fail "the child reads the same without its parent: the test proves nothing"
fi
rm -rf "$d" "$tmp"/*.raw

# 4096-byte logical sectors.
d=$tmp/diff4k
gen diff4k "$d"
$IMGTOOL read "$d/child.avhdx" "$tmp/ours.raw" || fail "read 4k child"
cmp "$tmp/ours.raw" "$d/child.raw" || fail "4k child differs"
rm -rf "$d"

# A chain of three: base <- mid <- top.
d=$tmp/chain3
gen chain3 "$d"
$IMGTOOL read "$d/top.avhdx" "$tmp/ours.raw" || fail "read top"
cmp "$tmp/ours.raw" "$d/top.raw" || fail "chain of 3: top differs"
$IMGTOOL read "$d/mid.avhdx" "$tmp/ours.raw" || fail "read mid"
cmp "$tmp/ours.raw" "$d/mid.raw" || fail "chain of 3: mid differs"
$IMGTOOL info "$d/top.avhdx" | grep -c '"filename"' | grep -qx 3 ||
    fail "info: chain of 3"

# A parent whose DataWriteGuid is not the child's parent_linkage:
# refused, or read with a warning when asked to ignore it.
d=$tmp/badlink
gen badlink "$d"
expect_fail "wrong parent_linkage" $IMGTOOL read "$d/child.avhdx" "$tmp/o.raw"
grep -q "does not match: DataWriteGuid mismatch: this image records parent_linkage" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "wrong linkage: message"; }
grep -q "$d/child.avhdx" "$tmp/expect_fail.out" || fail "wrong linkage: file not named"
IMGTOOL_FLAGS=ignoreparent $IMGTOOL read "$d/child.avhdx" "$tmp/o.raw" \
    2> "$tmp/warn" || fail "ignoreparent: read"
grep -q "warning: .*DataWriteGuid mismatch.*reading it anyway" "$tmp/warn" || fail "ignoreparent: no warning"
cmp "$tmp/o.raw" "$d/child.raw" || fail "ignoreparent: data differs"

# relative_path leading outside the child's directory: refused, read
# only when outside paths are allowed.
d=$tmp/outside
gen outside "$d"
expect_fail "relative_path outside" $IMGTOOL read "$d/sub/child.avhdx" "$tmp/o.raw"
grep -q "leads outside" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "outside: message"; }
IMGTOOL_FLAGS=outside $IMGTOOL read "$d/sub/child.avhdx" "$tmp/o.raw" ||
    fail "outside allowed: read"
cmp "$tmp/o.raw" "$d/sub/child.raw" || fail "outside allowed: data differs"

# relative_path missing: absolute_win32_path's file name, found in the
# child's own directory.
d=$tmp/fallback
gen fallback "$d"
$IMGTOOL read "$d/child.avhdx" "$tmp/o.raw" || fail "fallback: read"
cmp "$tmp/o.raw" "$d/child.raw" || fail "fallback: data differs"
# Windows names ignore case: a parent copied as Parent.VHDX is found.
mv "$d/parent.vhdx" "$d/Parent.VHDX"
$IMGTOOL read "$d/child.avhdx" "$tmp/o.raw" || fail "name in another case: read"
cmp "$tmp/o.raw" "$d/child.raw" || fail "name in another case: data differs"
# No parent at all: a clear error listing what was tried.
mv "$d/Parent.VHDX" "$d/gone.vhdx"
expect_fail "parent missing" $IMGTOOL read "$d/child.avhdx" "$tmp/o.raw"
grep -q "parent not found (tried relative_path" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "missing parent: message"; }
# A parent of another size or sector size is refused.
mv "$d/gone.vhdx" "$d/parent.vhdx"
"$PY" "$srcdir/vhdx-patch.py" "$d/parent.vhdx" meta disk_size=$((32 * 1048576)) ||
    fail patch
expect_fail "parent size" $IMGTOOL read "$d/child.avhdx" "$tmp/o.raw"
grep -q "virtual size" "$tmp/expect_fail.out" || fail "parent size: message"
exit 0
