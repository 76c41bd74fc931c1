#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mutation fuzzing of every format driver (tests/test-fuzz-formats.c).
#
# 1. Replays the mutants that once crashed or hung a driver
#    (tests/data/fuzz/*/: the files, gzipped, and ARGS "OPEN FORMAT").
# 2. Prepares a seed directory: images of every format and subformat
#    made by qemu-img (when installed) and by vmconv's own writers, plus
#    the corpus images (when present), each in its own directory with
#    its companions (extents, backing files), listed in seeds.list.
# 3. Runs test-fuzz-formats on it.  A failing mutant is kept in
#    $builddir/fuzz-failures/ for reproduction.
#
# FUZZ_ITERATIONS, FUZZ_SEED, FUZZ_TIMEOUT, FUZZ_ONLY, FUZZ_FORMATS,
# FUZZ_VERBOSE... are passed through (see test-fuzz-formats.c);
# FUZZ_PREPARE_ONLY=DIR only prepares the seeds, for long runs.

. "$srcdir/functions.sh"

fuzz=${builddir:-.}/test-fuzz-formats
[ -x "$fuzz" ] || fail "$fuzz not built"
failures=${FUZZ_FAILDIR:-${builddir:-.}/fuzz-failures}

# ---- 1. Regression mutants --------------------------------------------
nreg=0
for d in "$srcdir"/data/fuzz/*/; do
    [ -f "$d/ARGS" ] || continue
    name=$(basename "$d")
    mkdir -p "$tmp/reg/$name"
    for f in "$d"/*; do
        case $f in
            */ARGS|*/README) ;;
            *.gz) gzip -dc "$f" > "$tmp/reg/$name/$(basename "${f%.gz}")" ;;
            *) cp "$f" "$tmp/reg/$name/" ;;
        esac
    done
    read -r open format flags < "$d/ARGS"
    rc=0
    "$fuzz" --one "$tmp/reg/$name/$open" "$format" \
        > "$tmp/reg/$name.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$tmp/reg/$name.out"
        fail "regression mutant $name ($open, $format): exit $rc"
    fi
    nreg=$((nreg + 1))
done
echo "fuzz: $nreg regression mutants replayed"

# ---- 2. Seeds ---------------------------------------------------------
seeds=$tmp/seeds
mkdir -p "$seeds"
list=$seeds/seeds.list
: > "$list"

# add NAME FORMAT OPEN [MUTATE]: list the seed in $seeds/NAME.
add() {
    echo "$1 $2 $3 ${4:-$3}" >> "$list"
}

"$fuzz" --make-raw "$tmp/data.raw" $((6 * 1024 * 1024)) ||
    fail "making guest data"
"$fuzz" --make-raw "$tmp/small.raw" $((1024 * 1024)) ||
    fail "making guest data"

mkdir -p "$seeds/raw"
cp "$tmp/small.raw" "$seeds/raw/disk.img"
add raw raw disk.img

# Images written by vmconv itself.
vmconv_seed() {
    local name=$1 fmt=$2 opts=$3 file=$4
    mkdir -p "$seeds/$name"
    "$IMGTOOL" create "$fmt" "$opts" "$tmp/data.raw" "$seeds/$name/$file" ||
        fail "imgtool create $fmt $opts"
    add "$name" "$fmt" "$file"
}
vmconv_seed vmconv-qcow2 qcow2 "" disk.qcow2
vmconv_seed vmconv-qcow2-c qcow2 "compress=on" disk.qcow2
vmconv_seed vmconv-vmdk vmdk "" disk.vmdk
vmconv_seed vmconv-vmdk-stream vmdk "subformat=streamOptimized" disk.vmdk
vmconv_seed vmconv-vhdx vhdx "block_size=1M" disk.vhdx
vmconv_seed vmconv-vpc vpc "" disk.vhd
vmconv_seed vmconv-vpc-fixed vpc "subformat=fixed" disk.vhd

# Images written by qemu-img, every subformat.
if [ -n "${QEMU_IMG:-}" ] && [ "$QEMU_IMG" != no ] ||
       command -v qemu-img >/dev/null 2>&1; then
    requires_qemu_img
    # qseed NAME FORMAT FILE OPTIONS...: a seed made by qemu-img convert
    # (left out, with a message, if this qemu-img cannot make it).
    qseed() {
        local name=$1 fmt=$2 file=$3
        shift 3
        mkdir -p "$seeds/$name"
        if ! qemu_img convert -q -f raw -O "$fmt" "$@" "$tmp/data.raw" \
                "$seeds/$name/$file"; then
            echo "fuzz: qemu-img convert -O $fmt $* failed: $name left out"
            rm -rf "$seeds/$name"
            return 1
        fi
        add "$name" "$fmt" "$file"
    }
    qseed qemu-qcow2-v2 qcow2 disk.qcow2 -o compat=0.10
    qseed qemu-qcow2-v3 qcow2 disk.qcow2 -o compat=1.1
    qseed qemu-qcow2-4k qcow2 disk.qcow2 -o cluster_size=4096
    qseed qemu-qcow2-c qcow2 disk.qcow2 -c
    qseed qemu-qcow2-zstd qcow2 disk.qcow2 -c -o compression_type=zstd
    qseed qemu-qcow2-extl2 qcow2 disk.qcow2 \
        -o extended_l2=on,cluster_size=32k
    qseed qemu-qcow2-rc1 qcow2 disk.qcow2 -o refcount_bits=1
    qseed qemu-qcow2-rc64 qcow2 disk.qcow2 \
        -o refcount_bits=64,lazy_refcounts=on
    # An internal snapshot and a persistent dirty bitmap, with writes
    # after them when qemu-io is there (clusters with refcount 1 and 2).
    if qseed qemu-qcow2-snap qcow2 disk.qcow2; then
        f=$seeds/qemu-qcow2-snap/disk.qcow2
        qemu_img snapshot -c snap1 "$f" || fail "qemu-img snapshot"
        qemu_img bitmap --add "$f" bitmap1 || fail "qemu-img bitmap"
        if command -v qemu-io >/dev/null 2>&1; then
            qemu-io -c "write -P 0x55 1M 128k" -c "write -P 0x66 3M 64k" \
                "$f" > /dev/null || fail "qemu-io write"
        fi
    fi
    qseed qemu-vmdk-sparse vmdk disk.vmdk
    qseed qemu-vmdk-stream vmdk disk.vmdk -o subformat=streamOptimized
    qseed qemu-vmdk-flat vmdk disk.vmdk -o subformat=monolithicFlat
    qseed qemu-vmdk-2gb vmdk disk.vmdk -o subformat=twoGbMaxExtentSparse
    # The same set, its sparse extent mutated instead of the descriptor.
    if [ -f "$seeds/qemu-vmdk-2gb/disk-s001.vmdk" ]; then
        mkdir -p "$seeds/qemu-vmdk-2gb-extent"
        cp "$seeds/qemu-vmdk-2gb/"* "$seeds/qemu-vmdk-2gb-extent/"
        add qemu-vmdk-2gb-extent vmdk disk.vmdk disk-s001.vmdk
    fi
    qseed qemu-vhdx vhdx disk.vhdx
    qseed qemu-vhdx-1m vhdx disk.vhdx -o block_size=1M
    qseed qemu-vhdx-fixed vhdx disk.vhdx -o subformat=fixed
    qseed qemu-vpc vpc disk.vhd
    qseed qemu-vpc-fixed vpc disk.vhd -o subformat=fixed

    # A qcow2 overlay over a qcow2 base, the overlay mutated.
    mkdir -p "$seeds/qemu-qcow2-backing"
    qemu_img convert -q -f raw -O qcow2 "$tmp/data.raw" \
        "$seeds/qemu-qcow2-backing/base.qcow2" || fail "qemu-img convert"
    "$fuzz" --make-raw "$tmp/top.raw" $((6 * 1024 * 1024)) ||
        fail "making guest data"
    printf 'overlay data' |
        dd of="$tmp/top.raw" bs=1 seek=$((65536 * 3 + 100)) conv=notrunc \
            2>/dev/null
    qemu_img convert -q -f raw -O qcow2 -B base.qcow2 -F qcow2 \
        "$tmp/top.raw" "$seeds/qemu-qcow2-backing/top.qcow2" ||
        fail "qemu-img convert -B"
    add qemu-qcow2-backing qcow2 top.qcow2
    # A raw backing file.
    mkdir -p "$seeds/qemu-qcow2-rawbase"
    cp "$tmp/small.raw" "$seeds/qemu-qcow2-rawbase/base.raw"
    qemu_img create -q -f qcow2 -b base.raw -F raw \
        "$seeds/qemu-qcow2-rawbase/top.qcow2" || fail "qemu-img create -b"
    add qemu-qcow2-rawbase qcow2 top.qcow2
else
    echo "fuzz: qemu-img not installed: seeds from vmconv and the corpus only"
fi

# Differencing chains, dirty logs and ESXi deltas that qemu-img cannot
# make, from the format tests' own generators (written from the specs).
# gen_seed NAME FORMAT OPEN MUTATE CMD...: CMD writes into $d.
gen_seed() {
    local name=$1 fmt=$2 open=$3 mutate=$4
    shift 4
    d=$tmp/gen/$name
    mkdir -p "$d" "$seeds/$name"
    if ! "$@" > "$tmp/gen/$name.log" 2>&1; then
        echo "fuzz: generator for $name failed, seed left out:"
        cat "$tmp/gen/$name.log"
        return 0
    fi
    find "$d" -type f ! -name '*.raw' -exec mv {} "$seeds/$name/" \;
    add "$name" "$fmt" "$open" "$mutate"
}
if command -v python3 >/dev/null 2>&1; then
    gen_seed gen-vpc-diff vpc child.vhd child.vhd \
        python3 "$srcdir/vpc-make-diff.py" "$tmp/gen/gen-vpc-diff"
    gen_seed gen-vhdx-diff vhdx child.avhdx child.avhdx \
        python3 "$srcdir/vhdx-make-diff.py" diff "$tmp/gen/gen-vhdx-diff"
    gen_seed gen-vhdx-chain vhdx top.avhdx mid.avhdx \
        python3 "$srcdir/vhdx-make-diff.py" chain3 "$tmp/gen/gen-vhdx-chain"
    gen_seed gen-vhdx-log vhdx log.vhdx log.vhdx \
        python3 "$srcdir/vhdx-make-diff.py" log "$tmp/gen/gen-vhdx-log"
    gen_seed gen-vmdk-cowd vmdk cowd.vmdk cowd-delta.vmdk \
        python3 "$srcdir/vmdk-make-esx.py" "$tmp/gen/gen-vmdk-cowd"
    gen_seed gen-vmdk-sesparse vmdk se.vmdk se-sesparse.vmdk \
        python3 "$srcdir/vmdk-make-esx.py" "$tmp/gen/gen-vmdk-sesparse"
else
    echo "fuzz: python3 not installed: no differencing VHD/VHDX seeds"
fi

# Corpus images, multi-file sets kept together.
if command -v bzip2 >/dev/null 2>&1 &&
       command -v gzip >/dev/null 2>&1; then
    cseed() {
        local name=$1 fmt=$2 open=$3
        shift 3
        local rel
        for rel in "$@"; do
            corpus_has "images/$rel" > /dev/null || return 0
        done
        mkdir -p "$seeds/$name"
        for rel in "$@"; do
            corpus_get "images/$rel" "$seeds/$name" > /dev/null ||
                fail "corpus $rel"
        done
        add "$name" "$fmt" "$open"
    }
    cseed c-afl9 vmdk afl9.vmdk qemu-iotests/afl9.vmdk.bz2
    cseed c-hyperv-vhd vpc hyperv2012r2-dynamic.vhd \
        qemu-iotests/hyperv2012r2-dynamic.vhd.bz2
    cseed c-dirtylog-vhdx vhdx iotest-dirtylog-10G-4M.vhdx \
        qemu-iotests/iotest-dirtylog-10G-4M.vhdx.bz2
    cseed c-dynamic-1g-vhdx vhdx iotest-dynamic-1G.vhdx \
        qemu-iotests/iotest-dynamic-1G.vhdx.bz2
    cseed c-version3-vmdk vmdk iotest-version3.vmdk \
        qemu-iotests/iotest-version3.vmdk.bz2
    cseed c-chain-qcow2 qcow2 backing-chain-1.qcow2 \
        dissect/backing-chain-1.qcow2.gz dissect/backing-chain-2.qcow2.gz \
        dissect/backing-chain-3.qcow2.gz
    cseed c-basic-zstd qcow2 basic-zstd.qcow2 dissect/basic-zstd.qcow2.gz
    cseed c-basic-qcow2 qcow2 basic.qcow2 dissect/basic.qcow2.gz
    cseed c-dynamic-vhd vpc dynamic.vhd dissect/dynamic.vhd.gz
    cseed c-fixed-vhdx vhdx fixed.vhdx dissect/fixed.vhdx.gz
    cseed c-ext2-qcow2 qcow2 ext2.qcow2 dfvfs/ext2.qcow2
    cseed c-ext2-vhd vpc ext2.vhd dfvfs/ext2.vhd
    cseed c-ext2-vmdk vmdk ext2.vmdk dfvfs/ext2.vmdk
    cseed c-diff-vhd vpc image-differential.vhd \
        dfvfs/image-differential.vhd dfvfs/image.vhd
    cseed c-windows-qcow2 qcow2 windows_volume.qcow2 \
        dfvfs/windows_volume.qcow2
    cseed c-jnode-vmdk vmdk JNode.vmdk jnode/JNode.vmdk
    cseed c-sparse-vmdk vmdk monolithicSparse.vmdk \
        vmdk-rs/monolithicSparse.vmdk
    cseed c-stream-vmdk vmdk streamOptimized.vmdk vmdk-rs/streamOptimized.vmdk
    cseed c-markers-vmdk vmdk streamOptimizedWithMarkers.vmdk \
        vmdk-rs/streamOptimizedWithMarkers.vmdk
    cseed c-vmfs-vmdk vmdk vmfs_thick.vmdk \
        vmdk-rs/vmfs_thick.vmdk vmdk-rs/vmfs_thick-flat.vmdk
else
    echo "fuzz: bzip2 or gzip not installed: generated seeds only"
fi

# FUZZ_PREPARE_ONLY=DIR: keep the seeds in DIR for long runs by hand:
#   test-fuzz-formats DIR SCRATCH FAILDIR
if [ -n "${FUZZ_PREPARE_ONLY:-}" ]; then
    mkdir -p "$FUZZ_PREPARE_ONLY"
    cp -r "$seeds"/. "$FUZZ_PREPARE_ONLY"/
    echo "fuzz: seeds prepared in $FUZZ_PREPARE_ONLY"
    exit 0
fi

# ---- 3. Fuzz ----------------------------------------------------------
mkdir -p "$tmp/scratch"
"$fuzz" "$seeds" "$tmp/scratch" "$failures"
