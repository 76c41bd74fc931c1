#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Verification catches a target disk damaged between the copy and the
# verify stage.  The test hook VMCONV_TEST_CORRUPT_BEFORE_VERIFY=
# INDEX:OFFSET (core/pipeline.c) flips one byte of disk INDEX's target
# file at OFFSET after it was written: with verification on, the
# conversion fails with exit 4 naming the disk and the offset, and
# nothing is left; with --no-verify the same damage goes through (which
# shows that the hook really damages the disk, so the first check can
# fail).
. "$srcdir/functions.sh"
V=$VMCONV

# Random data from 3 MiB to 5 MiB of a 32 MiB raw disk.
dd if=/dev/urandom of="$tmp/src.raw" bs=1M count=2 seek=3 status=none
truncate -s 32M "$tmp/src.raw"
before=$(fingerprint "$tmp/src.raw")
off=$((4 * 1024 * 1024 + 12345))
temp_dirs() { ls -A "$tmp" | grep '^\.out.*\.vmconv-' || :; }

# Undamaged: verified.
"$V" convert "$tmp/src.raw" --to example -of raw -O "$tmp/ok" > "$tmp/out" 2>&1 ||
    fail "clean conversion: $(cat "$tmp/out")"
grep -q "^Verified: every disk read back and compared" "$tmp/out" || fail "not verified"

# Damaged before verify: exit 4, nothing left.
rc=0
VMCONV_TEST_CORRUPT_BEFORE_VERIFY=0:$off \
    "$V" convert "$tmp/src.raw" --to example -of raw -O "$tmp/out1" \
    > /dev/null 2> "$tmp/err" || rc=$?
[ $rc -eq 4 ] || fail "damaged: exit $rc, expected 4: $(cat "$tmp/err")"
grep -q "warning: test hook VMCONV_TEST_CORRUPT_BEFORE_VERIFY: flipped the byte at offset $off" \
    "$tmp/err" || fail "the hook did not say what it did: $(cat "$tmp/err")"
grep -q "^vmconv: src-disk1.img: verification failed: it differs from $tmp/src.raw at offset $off; the partial output was removed, nothing was written to $tmp/out1, and the source was not touched\$" \
    "$tmp/err" || fail "damaged: message: $(cat "$tmp/err")"
[ ! -e "$tmp/out1" ] || fail "damaged: output left"
[ -z "$(temp_dirs)" ] || fail "damaged: temporary directory left: $(temp_dirs)"

# The same damage without verification is not seen.
VMCONV_TEST_CORRUPT_BEFORE_VERIFY=0:$off \
    "$V" convert "$tmp/src.raw" --to example -of raw -O "$tmp/out2" --no-verify \
    > /dev/null 2> "$tmp/err" || fail "--no-verify: $(cat "$tmp/err")"
if cmp -s "$tmp/src.raw" "$tmp/out2/src-disk1.img"; then
    fail "the test hook did not damage the disk"
fi
[ "$(cmp "$tmp/src.raw" "$tmp/out2/src-disk1.img" | sed 's/.*byte \([0-9]*\),.*/\1/')" = $((off + 1)) ] ||
    fail "damage at the wrong place"

# A qcow2 target too: 2 MiB into the file lies in its data clusters
# (the metadata before them is a few clusters of 64 KiB).
rc=0
VMCONV_TEST_CORRUPT_BEFORE_VERIFY=0:$((2 * 1024 * 1024 + 100)) \
    "$V" convert "$tmp/src.raw" --to example -O "$tmp/out3" \
    > /dev/null 2> "$tmp/err" || rc=$?
[ $rc -eq 4 ] || fail "qcow2 damaged: exit $rc, expected 4: $(cat "$tmp/err")"
grep -q "verification failed" "$tmp/err" || fail "qcow2: message: $(cat "$tmp/err")"
[ ! -e "$tmp/out3" ] || fail "qcow2 damaged: output left"
[ "$(fingerprint "$tmp/src.raw")" = "$before" ] || fail "source changed"
exit 0
