#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Log replay in memory: a generated image whose log holds an older
# sequence (ignored), an active sequence that wraps around the end of
# the log with its tail after its first entry, BAT updates, a zero
# descriptor and data past the end of the file.  Our read must equal
# the generator's raw and what qemu-img reads after replaying the log
# into a scratch copy; the source must not change.
. "$srcdir/functions.sh"
requires python3
PY=$(python3 -c 'import sys; print(sys.executable)')

d=$tmp/log
"$PY" "$srcdir/vhdx-make-diff.py" log "$d" || fail "generator"
img=$d/log.vhdx
before=$(fingerprint "$img")
$IMGTOOL read "$img" "$tmp/ours.raw" || fail "read"
cmp "$tmp/ours.raw" "$d/log.raw" || fail "replayed image differs from the generator's raw"
[ "$(fingerprint "$img")" = "$before" ] || fail "the source changed"
$IMGTOOL info "$img" | grep -q '"log": "replayed in memory"' || fail "info: log"
$IMGTOOL check "$img" > "$tmp/check" || { cat "$tmp/check"; fail "check"; }
grep -q "note: the log is not empty (2 entries" "$tmp/check" ||
    { cat "$tmp/check"; fail "check: log note"; }
$IMGTOOL map "$img" > "$tmp/map"
grep -q "^31457280 1048576 data$" "$tmp/map" ||
    { cat "$tmp/map"; fail "map: the block the log adds past the end of file"; }

# Without the log the image reads differently (so the test can fail).
cp "$img" "$tmp/nolog.vhdx"
"$PY" "$srcdir/vhdx-patch.py" "$tmp/nolog.vhdx" header-both log_guid=0 || fail patch
$IMGTOOL read "$tmp/nolog.vhdx" "$tmp/nolog.raw" || fail "read without log"
if cmp -s "$tmp/nolog.raw" "$d/log.raw"; then
    fail "the image reads the same without its log"
fi

# qemu-img replays on a writable open: do it on a copy and compare.
if [ -n "${QEMU_IMG:-}" ] && [ "$QEMU_IMG" != no ] && [ -x "$QEMU_IMG" ]; then
    cp "$img" "$tmp/repaired.vhdx"
    "$QEMU_IMG" check -r all -f vhdx "$tmp/repaired.vhdx" > /dev/null ||
        fail "qemu-img check -r all"
    "$QEMU_IMG" convert -f vhdx -O raw "$tmp/repaired.vhdx" "$tmp/qemu.raw" ||
        fail "qemu-img convert"
    cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "our replay differs from qemu-img's"
else
    echo "qemu-img missing: compared with the generator only"
fi
exit 0
