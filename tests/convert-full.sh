#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert onto a full filesystem (a small tmpfs the test mounts;
# skipped where mounting is not permitted):
#  - the plan sees that the disk will not fit and stops before writing:
#    exit 3, a message giving the space needed and free, --dry-run
#    says the same;
#  - with --no-space-check the copy runs into ENOSPC: exit 3, the
#    message names the failure and says the partial output was removed;
# and nothing is left on the filesystem either way.
. "$srcdir/functions.sh"
requires mount umount
V=$VMCONV

mnt=$tmp/mnt
mkdir "$mnt"
if ! mount -t tmpfs -o size=16m tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root, or no permission)"
    exit 77
fi
unmount() { umount "$mnt"; }
cleanup_hooks+=(unmount)

# 48 MiB of random data: it cannot fit in 16 MiB, compressed or not.
dd if=/dev/urandom of="$tmp/src.raw" bs=1M count=48 status=none
before=$(fingerprint "$tmp/src.raw")

# nothing_left WHAT: the tmpfs is empty.
nothing_left() {
    [ -z "$(ls -A "$mnt")" ] || fail "$1: left on the filesystem: $(ls -A "$mnt")"
    [ "$(fingerprint "$tmp/src.raw")" = "$before" ] || fail "$1: source changed"
}

rc=0
"$V" convert "$tmp/src.raw" --to example -O "$mnt/out" -of raw \
    > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "plan: exit $rc, expected 3: $(cat "$tmp/err")"
grep -q "^vmconv: $mnt: the conversion needs about [0-9]* MiB and the filesystem has [0-9]* MiB free; stopped before writing anything, the source was not touched\$" \
    "$tmp/err" || fail "plan: message: $(cat "$tmp/err")"
nothing_left "plan"

rc=0
"$V" convert "$tmp/src.raw" --to example -O "$mnt/out" --dry-run \
    > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "dry run: exit $rc, expected 3"
grep -q "^  space: .*: does not fit\$" "$tmp/out" || fail "dry run: $(cat "$tmp/out")"
grep -q "^    error: $mnt: the conversion needs about" "$tmp/out" ||
    fail "dry run: no risk: $(cat "$tmp/out")"
nothing_left "dry run"

rc=0
"$V" convert "$tmp/src.raw" --to example -O "$mnt/out" -of raw \
    --no-space-check > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 3 ] || fail "ENOSPC: exit $rc, expected 3: $(cat "$tmp/err")"
grep -q "No space left on device; the partial output was removed, nothing was written to $mnt/out, and the source was not touched\$" \
    "$tmp/err" || fail "ENOSPC: message: $(cat "$tmp/err")"
nothing_left "ENOSPC"
exit 0
