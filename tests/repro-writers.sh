#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every writer's output is byte-identical across runs, thread counts
# and request sizes when SOURCE_DATE_EPOCH is set; grains, clusters and
# blocks lie in disk order; without SOURCE_DATE_EPOCH the identifiers
# stay random but the outputs hold the same disk.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3

# A source with scattered data written out of order (pieces of 512
# bytes to 1 MiB, random and compressible), written zero runs, holes,
# and a size that is no multiple of a cluster, block or MiB.
python3 - "$tmp/src.raw" <<'PY' || fail "making the source"
import random, sys
MiB = 1 << 20
size = 40 * MiB + 3 * 65536 + 4096
r = random.Random(5)
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    spots = []
    for i in range(60):
        off = r.randrange(0, size - 70000) & ~511
        n = r.choice([512, 4096, 65536, 65536 + 512, 300000, MiB])
        spots.append((off, min(n, size - off)))
    r.shuffle(spots)
    for off, n in spots:
        f.seek(off)
        if r.random() < 0.3:
            f.write(((b"vmconv reproducible %d\n" % off) * (n // 20 + 1))[:n])
        else:
            f.write(r.randbytes(n))
    for off in (8 * MiB, 20 * MiB):
        f.seek(off)
        f.write(bytes(2 * MiB))
    f.seek(size - 4096)
    f.write(r.randbytes(4096))
PY

# NAME FORMAT OPTIONS... (the output is $dir/out.EXT plus companions)
targets=(
    "raw raw"
    "qcow2 qcow2"
    "qcow2-v2 qcow2 -o compat=0.10"
    "qcow2-c qcow2 -c"
    "qcow2-zstd qcow2 -c -o compression_type=zstd"
    "vmdk-sparse vmdk"
    "vmdk-stream vmdk -o subformat=streamOptimized"
    "vmdk-flat vmdk -o subformat=monolithicFlat"
    "vmdk-vmfs vmdk -o subformat=vmfs"
    "vhdx vhdx"
    "vhdx-fixed vhdx -o subformat=fixed"
    "vpc vpc"
    "vpc-fixed vpc -o subformat=fixed"
)
# The runs compared: threads and request size.
runs=("-m 1" "-m 2" "-m 4" "-m 4 --request-size 1M")

# convert DIR FORMAT OPTIONS... RUN-OPTIONS
convert() {
    local dir=$1 fmt=$2
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    "$VMCONV" disk convert -f raw -O "$fmt" "$@" "$tmp/src.raw" \
        "$dir/out.img" 2> "$tmp/err.txt" ||
        { cat "$tmp/err.txt"; fail "convert -O $fmt $*"; }
}

# The data of IMG (format FMT) lies at increasing file offsets.
check_order() {
    qemu_img map -f "$2" --output=json "$1" > "$tmp/map.json" ||
        fail "$1: qemu-img map"
    python3 - "$tmp/map.json" "$1" <<'PY' || fail "$1: data out of disk order"
import json, sys
m = [e for e in json.load(open(sys.argv[1]))
     if e.get("data") and "offset" in e]
for a, b in zip(m, m[1:]):
    if b["offset"] < a["offset"] + a["length"]:
        print("%s: guest %d at file %d, guest %d at file %d" % (
            sys.argv[2], a["start"], a["offset"], b["start"], b["offset"]))
        sys.exit(1)
PY
}

export SOURCE_DATE_EPOCH=1700000000
for t in "${targets[@]}"; do
    set -- $t
    name=$1 fmt=$2
    shift 2
    i=0
    for r in "${runs[@]}"; do
        # shellcheck disable=SC2086
        convert "$tmp/$name.$i" "$fmt" "$@" $r
        if [ $i -gt 0 ]; then
            for f in "$tmp/$name.0"/*; do
                cmp "$f" "$tmp/$name.$i/$(basename "$f")" ||
                    fail "$name: '$r' differs from '${runs[0]}'"
            done
        fi
        i=$((i + 1))
    done
    qemu_img compare -f raw -F "$fmt" "$tmp/src.raw" "$tmp/$name.0/out.img" \
        > /dev/null || fail "$name: output differs from the source"
    [ "$fmt" = raw ] || check_order "$tmp/$name.0/out.img" "$fmt"
done

# The identifiers follow the data: one byte more, another CID.
cp "$tmp/src.raw" "$tmp/src2.raw"
printf x | dd of="$tmp/src2.raw" bs=1 seek=12345678 conv=notrunc status=none
"$VMCONV" disk convert -O vmdk "$tmp/src2.raw" "$tmp/other.vmdk" ||
    fail "convert src2"
cid1=$(head -c 2048 "$tmp/vmdk-sparse.0/out.img" | grep -a '^CID=')
cid2=$(head -c 2048 "$tmp/other.vmdk" | grep -a '^CID=')
[ -n "$cid1" ] && [ "$cid1" != "$cid2" ] ||
    fail "the same CID ($cid1) for different data"

# A malformed SOURCE_DATE_EPOCH is an error, not a silent random id.
rc=0
SOURCE_DATE_EPOCH=yesterday "$VMCONV" disk convert -O vhdx "$tmp/src.raw" \
    "$tmp/bad.vhdx" > "$tmp/out.txt" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "SOURCE_DATE_EPOCH 'yesterday'" "$tmp/out.txt" ||
    { cat "$tmp/out.txt"; fail "malformed SOURCE_DATE_EPOCH accepted"; }
[ ! -e "$tmp/bad.vhdx" ] || fail "output left behind"

# Without SOURCE_DATE_EPOCH: random identifiers (the files differ where
# the format has them), the same disk.
unset SOURCE_DATE_EPOCH
for t in "${targets[@]}"; do
    set -- $t
    name=$1 fmt=$2
    shift 2
    convert "$tmp/$name.a" "$fmt" "$@" -m 1
    convert "$tmp/$name.b" "$fmt" "$@" -m 4
    qemu_img compare -f "$fmt" -F "$fmt" "$tmp/$name.a/out.img" \
        "$tmp/$name.b/out.img" > /dev/null ||
        fail "$name: without SOURCE_DATE_EPOCH the disks differ"
    case $name in
        vmdk-*|vhdx*|vpc*)
            cmp -s "$tmp/$name.a/out.img" "$tmp/$name.b/out.img" &&
                fail "$name: identifiers are not random by default" ;;
    esac
done
exit 0
