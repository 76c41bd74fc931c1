#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHDX images made by Hyper-V, Windows 10 and a dirty-log qemu build:
# what we read must equal what qemu-img reads (and the PROVENANCE
# guest-data sha256), and the source must not change.
. "$srcdir/functions.sh"
requires_corpus
requires_qemu_img
requires bzip2 gzip python3
PY=$(python3 -c 'import sys; print(sys.executable)')
# sha256 through OpenSSL (hashlib): several times faster than sha256sum.
fastsha() {
    "$PY" -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for b in iter(lambda: f.read(1 << 22), b""):
        h.update(b)
print(h.hexdigest())' "$1"
}
fprint() { stat -c '%s %Y' "$1"; fastsha "$1"; }

# Hyper-V (Windows Server 2012) dynamic, 1 GiB, 32 MiB blocks, ZERO
# blocks after the data.
img=$(corpus_get images/qemu-iotests/iotest-dynamic-1G.vhdx.bz2) || fail "corpus"
before=$(fprint "$img")
$IMGTOOL read "$img" "$tmp/ours.raw" || fail "read iotest-dynamic-1G"
[ "$(fastsha "$tmp/ours.raw")" = \
  d3d112d8dab7fd360609f7d5a7b769904b7a2a7d7b6b8c535f65a23293c05478 ] ||
    fail "iotest-dynamic-1G: guest data differs from the PROVENANCE sha256"
qemu_img convert -f vhdx -O raw "$img" "$tmp/qemu.raw"
# Both files are sparse: compare their data extents only.
"$PY" "$srcdir/vhdx-make-diff.py" cmp "$tmp/ours.raw" "$tmp/qemu.raw" ||
    fail "iotest-dynamic-1G: differs from qemu-img"
$IMGTOOL map "$img" > "$tmp/map"
grep -qx "0 100663296 data" "$tmp/map" || { cat "$tmp/map"; fail "map: data run"; }
grep -qx "100663296 973078528 zero" "$tmp/map" || { cat "$tmp/map"; fail "map: zero run"; }
$IMGTOOL info "$img" > "$tmp/info" || fail "info"
grep -q '"subformat": "dynamic"' "$tmp/info" || fail "info: subformat"
grep -q '"creator": "Microsoft Windows 6.2.9200.16384"' "$tmp/info" || fail "info: creator"
$IMGTOOL check "$img" || fail "check iotest-dynamic-1G"
[ "$(fprint "$img")" = "$before" ] || fail "source changed"
rm -f "$tmp"/*.raw

if corpus_has images/dissect/fixed.vhdx.gz; then
    # Windows 10 fixed, 10 MiB, 2 MiB blocks.
    img=$(corpus_get images/dissect/fixed.vhdx.gz) || fail "corpus"
    $IMGTOOL read "$img" "$tmp/ours.raw" || fail "read fixed.vhdx"
    [ "$(fastsha "$tmp/ours.raw")" = \
      bc0be4623b15aa84216fb31ba24e3b621ec7f1c72d198c990ac0eced222d9f62 ] ||
        fail "fixed.vhdx: guest data differs from the PROVENANCE sha256"
    qemu_img convert -f vhdx -O raw "$img" "$tmp/qemu.raw"
    cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "fixed.vhdx: differs from qemu-img"
    $IMGTOOL info "$img" | grep -q '"subformat": "fixed"' || fail "info: fixed"
    $IMGTOOL check "$img" || fail "check fixed.vhdx"
    rm -f "$tmp"/*.raw
fi

# 10 GiB dynamic with an unreplayed log (qemu iotest 070).  qemu-img
# refuses it read-only; repair a scratch copy with qemu-img check -r
# all and compare the allocated part (the rest must be holes: never
# expand 10 GiB here).
img=$(corpus_get images/qemu-iotests/iotest-dirtylog-10G-4M.vhdx.bz2) || fail "corpus"
before=$(fprint "$img")
cp "$img" "$tmp/repaired.vhdx"
qemu_img check -r all -f vhdx "$tmp/repaired.vhdx" > /dev/null ||
    fail "qemu-img could not repair the scratch copy"
$IMGTOOL map "$img" > "$tmp/map" || fail "map dirtylog"
cat > "$tmp/map.expected" <<EOF
0 18874368 data
18874368 10718543872 hole
EOF
diff -u "$tmp/map.expected" "$tmp/map" || fail "dirtylog: block status"
$IMGTOOL read "$img" "$tmp/ours.raw" || fail "read dirtylog"
qemu_img dd -f vhdx -O raw if="$tmp/repaired.vhdx" of="$tmp/qemu32.raw" \
    bs=1M count=32
head -c 33554432 "$tmp/ours.raw" | cmp - "$tmp/qemu32.raw" ||
    fail "dirtylog: our replay differs from qemu-img's repaired copy"
$IMGTOOL info "$img" | grep -q '"log": "replayed in memory"' || fail "info: log"
$IMGTOOL check "$img" > "$tmp/check" || { cat "$tmp/check"; fail "check dirtylog"; }
grep -q "log is not empty" "$tmp/check" || fail "check: no log note"
[ "$(fprint "$img")" = "$before" ] || fail "dirtylog: source changed"

# Without the replay the last block is missing: prove the log matters
# by clearing LogGuid in both headers of a copy (CRCs fixed).
cp "$img" "$tmp/nolog.vhdx"
"$PY" "$srcdir/vhdx-patch.py" "$tmp/nolog.vhdx" header-both log_guid=0 ||
    fail "patch"
$IMGTOOL read "$tmp/nolog.vhdx" "$tmp/nolog.raw" || fail "read nolog"
if head -c 33554432 "$tmp/nolog.raw" | cmp -s - "$tmp/qemu32.raw"; then
    fail "dirtylog: the image reads the same without its log; the test proves nothing"
fi
exit 0
