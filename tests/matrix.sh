# SPDX-License-Identifier: LGPL-2.1-or-later
# The conversion matrix: one input kind (made by qemu-img from a pattern
# disk) converted by `vmconv disk convert` into every output kind; each
# output must pass `qemu-img check` (where qemu-img has a check for the
# format), have exactly the input's virtual size, and be found identical
# to the input by `qemu-img compare`.  Sourced by matrix-from-*.sh with
# the input kind as $1.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3

kind=$1
V=$VMCONV

# The pattern: 20 MiB + 1.5 KiB (not a multiple of any cluster size),
# random data at unaligned offsets, written zeros, holes, a last
# partial cluster with data.
size=$((20 * 1024 * 1024 + 1536))
python3 - "$tmp/pattern.raw" $size <<'PY'
import os, random, sys
path, size = sys.argv[1], int(sys.argv[2])
r = random.Random(42)
with open(path, "wb") as f:
    f.truncate(size)
    for off, n in ((0, 4096), (65536 - 512, 1024), (1 << 20, 3 << 20),
                   (5 << 20 | 12345, 70000), (9 << 20, 1 << 20),
                   (17 << 20, 2 << 20), (size - 1000, 1000)):
        f.seek(off)
        f.write(bytes(r.getrandbits(8) for _ in range(min(n, 4096))) * (n // 4096) +
                bytes(r.getrandbits(8) for _ in range(n % 4096)))
    f.seek(12 << 20)
    f.write(bytes(2 << 20))          # written zeros
PY

# input kinds: format for -f, qemu-img convert arguments
case $kind in
    raw)          ifmt=raw;   mk=(-O raw) ;;
    qcow2)        ifmt=qcow2; mk=(-O qcow2) ;;
    qcow2-v2)     ifmt=qcow2; mk=(-O qcow2 -o compat=0.10) ;;
    qcow2-c)      ifmt=qcow2; mk=(-O qcow2 -c) ;;
    qcow2-zstd)   ifmt=qcow2; mk=(-O qcow2 -c -o compression_type=zstd) ;;
    vmdk)         ifmt=vmdk;  mk=(-O vmdk) ;;
    vmdk-stream)  ifmt=vmdk;  mk=(-O vmdk -o subformat=streamOptimized) ;;
    vmdk-flat)    ifmt=vmdk;  mk=(-O vmdk -o subformat=monolithicFlat) ;;
    vmdk-2gb)     ifmt=vmdk;  mk=(-O vmdk -o subformat=twoGbMaxExtentSparse) ;;
    vhdx)         ifmt=vhdx;  mk=(-O vhdx) ;;
    vhdx-fixed)   ifmt=vhdx;  mk=(-O vhdx -o subformat=fixed) ;;
    vpc)          ifmt=vpc;   mk=(-O vpc -o force_size=on) ;;
    vpc-fixed)    ifmt=vpc;   mk=(-O vpc -o subformat=fixed,force_size=on) ;;
    *) fail "unknown input kind $kind" ;;
esac
mkdir "$tmp/in"
in=$tmp/in/input.$ifmt
qemu_img convert -f raw "${mk[@]}" "$tmp/pattern.raw" "$in"
qemu_img compare -f raw -F "$ifmt" "$tmp/pattern.raw" "$in" >/dev/null ||
    fail "qemu-img made a wrong input?"
before=$(fingerprint "$in")

# output kinds: name, -O format, extra vmconv arguments
outputs=(
    "raw raw"
    "qcow2 qcow2"
    "qcow2-c qcow2 -c"
    "qcow2-zstd-c qcow2 -c -o compression_type=zstd"
    "qcow2-4k qcow2 -o cluster_size=4K"
    "qcow2-2m qcow2 -o cluster_size=2M"
    "vmdk vmdk"
    "vmdk-stream vmdk -o subformat=streamOptimized"
    "vmdk-flat vmdk -o subformat=monolithicFlat"
    "vhdx vhdx"
    "vhdx-fixed vhdx -o subformat=fixed"
    "vhdx-1m vhdx -o block_size=1M"
    "vpc vpc"
    "vpc-fixed vpc -o subformat=fixed"
)

failures=0
for o in "${outputs[@]}"; do
    set -- $o
    name=$1 ofmt=$2
    shift 2
    out=$tmp/out-$name.$ofmt
    if ! $V disk convert -f "$ifmt" -O "$ofmt" "$@" "$in" "$out" 2>"$tmp/err"; then
        echo "FAIL $kind -> $name: $(cat "$tmp/err")"
        failures=$((failures + 1)); continue
    fi
    case $ofmt in
        qcow2|vmdk|vhdx)
            if ! qemu_img check -f "$ofmt" "$out" >"$tmp/chk" 2>&1; then
                echo "FAIL $kind -> $name: qemu-img check:"; cat "$tmp/chk"
                failures=$((failures + 1)); continue
            fi ;;
    esac
    vsize=$(qemu_img info -f "$ofmt" --output=json "$out" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
    if [ "$vsize" != "$size" ]; then
        echo "FAIL $kind -> $name: virtual size $vsize, expected $size"
        failures=$((failures + 1)); continue
    fi
    if ! qemu_img compare -f raw -F "$ofmt" "$tmp/pattern.raw" "$out" >"$tmp/cmp" 2>&1; then
        echo "FAIL $kind -> $name: qemu-img compare: $(cat "$tmp/cmp")"
        failures=$((failures + 1)); continue
    fi
    echo "ok   $kind -> $name"
    rm -f "$out" "$tmp"/out-"$name"*
done
[ "$(fingerprint "$in")" = "$before" ] || fail "the input changed"
[ $failures -eq 0 ] || fail "$failures conversions from $kind failed"
