#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Remake samples/disks/demo.vmdk: a 64 MiB disk with an MBR partition
# table and one ext4 file system holding a few small files, stored as a
# streamOptimized VMDK (the kind VMware exports in an OVA).
# Needs sfdisk, mke2fs (e2fsprogs) and qemu-img.  The guest data is
# not byte-reproducible across e2fsprogs versions; the committed file
# is the reference (its guest-data sha256 is in README.md).
set -euo pipefail
out=${1:-demo.vmdk}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/root/etc" "$w/root/home/alice"
echo demo-vm > "$w/root/etc/hostname"
printf 'UUID=... / ext4 defaults 0 1\n' > "$w/root/etc/fstab"
for i in 1 2 3; do
    seq 1 20000 | sed "s/^/alice note $i line /" > "$w/root/home/alice/notes-$i.txt"
done
echo "Converted by vmconv" > "$w/root/README"
truncate -s 64M "$w/disk.raw"
printf 'label: dos\nlabel-id: 0x766d636e\nstart=2048, type=83, bootable\n' |
    sfdisk -q "$w/disk.raw"
truncate -s 63M "$w/part.raw"
E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -t ext4 -L demo-root \
    -U 6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9 \
    -E hash_seed=6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9 -d "$w/root" "$w/part.raw"
dd if="$w/part.raw" of="$w/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic \
    "$w/disk.raw" "$out"
