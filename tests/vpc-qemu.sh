#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VHDs made by qemu-img (fixed and dynamic, with and without
# force_size) and written by qemu-io read exactly as qemu-img reads
# them; a fixed VHD probes as vpc, never raw.
. "$srcdir/functions.sh"
requires_qemu_img
requires qemu-io

for sub in fixed dynamic; do
    for fs in on off; do
        img=$tmp/$sub-$fs.vhd
        # 9 MiB + 3 sectors: not CHS-representable, so force_size=off
        # rounds it up, and the last block is partial.
        qemu_img create -q -f vpc -o subformat=$sub,force_size=$fs "$img" 9438720
        qemu-io -f vpc \
            -c 'write -P 0x11 0 64k' \
            -c 'write -P 0x22 1049088 1536' \
            -c 'write -P 0x33 2096640 4096' \
            -c 'write -P 0x00 3m 64k' \
            -c 'write -P 0x44 5242880 1536' \
            -c 'write -P 0x55 9437184 1536' \
            "$img" > /dev/null
        [ "$("$IMGTOOL" probe "$img")" = vpc ] || fail "$sub-$fs: not probed as vpc"
        want=$(qemu_img info -f vpc --output=json "$img" |
            sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p')
        got=$("$IMGTOOL" info "$img" | sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p')
        [ "$want" = "$got" ] || fail "$sub-$fs: virtual size $got, qemu-img says $want"
        "$IMGTOOL" read "$img" "$tmp/ours.raw"
        qemu_img convert -f vpc -O raw "$img" "$tmp/qemu.raw"
        cmp "$tmp/ours.raw" "$tmp/qemu.raw" || fail "$sub-$fs: data differs from qemu-img's"
        "$IMGTOOL" check "$img" > "$tmp/check.out" ||
            { cat "$tmp/check.out"; fail "$sub-$fs: check finds problems"; }
    done
done

# The map of the dynamic image: the blocks qemu allocated, holes elsewhere.
"$IMGTOOL" map "$tmp/dynamic-on.vhd" > "$tmp/map"
[ "$(cat "$tmp/map")" = "0 6291456 data
6291456 2097152 hole
8388608 1050112 data" ] || { cat "$tmp/map"; fail "map: wrong runs"; }
exit 0
