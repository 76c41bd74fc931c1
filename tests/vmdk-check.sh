#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmdk check: clean images pass; shared grains, grains in the metadata,
# tables past the end, bad stream markers are errors; unreferenced
# grains are leaks; a redundant directory that differs is a note.
. "$srcdir/functions.sh"
requires_qemu_img

poke() {
    local s="" i
    for ((i = 0; i < $4; i++)); do
        s+=$(printf '\\x%02x' $(( ($3 >> (8 * i)) & 255 )))
    done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
peek() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }

# expect IMG RC PATTERN: imgtool check IMG exits RC, output has PATTERN.
expect() {
    local rc=0
    "$IMGTOOL" check "$1" > "$tmp/out.txt" 2>&1 || rc=$?
    [ $rc -eq $2 ] || { cat "$tmp/out.txt"; fail "$1: exit $rc, not $2"; }
    grep -q -- "$3" "$tmp/out.txt" || { cat "$tmp/out.txt"; fail "$1: $3"; }
}

truncate -s 2M "$tmp/in.raw"
head -c 300000 /dev/urandom | dd of="$tmp/in.raw" conv=notrunc status=none
qemu_img convert -O vmdk "$tmp/in.raw" "$tmp/good.vmdk"
qemu_img convert -O vmdk -o subformat=streamOptimized "$tmp/in.raw" \
    "$tmp/stream.vmdk"
"$IMGTOOL" create vmdk subformat=streamOptimized "$tmp/in.raw" \
    "$tmp/ours-stream.vmdk" || fail "create"
expect "$tmp/good.vmdk" 0 "errors=0 leaks=0"
expect "$tmp/stream.vmdk" 0 "errors=0 leaks=0"
expect "$tmp/ours-stream.vmdk" 0 "errors=0 leaks=0"

gd=$(od -An -t u8 -j 56 -N 8 "$tmp/good.vmdk" | tr -d ' ')
rgd=$(od -An -t u8 -j 48 -N 8 "$tmp/good.vmdk" | tr -d ' ')
gt=$(( $(peek "$tmp/good.vmdk" $((gd * 512))) * 512 ))
rgt=$(( $(peek "$tmp/good.vmdk" $((rgd * 512))) * 512 ))
g0=$(peek "$tmp/good.vmdk" $gt)

cp "$tmp/good.vmdk" "$tmp/shared.vmdk"
poke "$tmp/shared.vmdk" $((gt + 4)) $g0 4
poke "$tmp/shared.vmdk" $((rgt + 4)) $g0 4
expect "$tmp/shared.vmdk" 2 "share file sector $g0"

cp "$tmp/good.vmdk" "$tmp/meta.vmdk"
poke "$tmp/meta.vmdk" $((gt + 8)) $gd 4
poke "$tmp/meta.vmdk" $((rgt + 8)) $gd 4
expect "$tmp/meta.vmdk" 2 "inside the metadata"

cp "$tmp/good.vmdk" "$tmp/gtpast.vmdk"
poke "$tmp/gtpast.vmdk" $((gd * 512)) 99999999 4
expect "$tmp/gtpast.vmdk" 2 "grain table at sector 99999999 is past the end"

cp "$tmp/good.vmdk" "$tmp/rgd.vmdk"
poke "$tmp/rgd.vmdk" $((rgt + 4)) 0 4
expect "$tmp/rgd.vmdk" 0 "note: .*1 grain tables of the redundant copy differ"

cp "$tmp/good.vmdk" "$tmp/leak.vmdk"
poke "$tmp/leak.vmdk" $((gt + 4)) 0 4
poke "$tmp/leak.vmdk" $((rgt + 4)) 0 4
expect "$tmp/leak.vmdk" 3 "leak: .* 65536 bytes after the metadata"

# Stream grain markers: wrong lba, bad size.
sgd=$(od -An -t u8 -j 56 -N 8 "$tmp/stream.vmdk" | tr -d ' ')
sgt=$(( $(peek "$tmp/stream.vmdk" $((sgd * 512))) * 512 ))
mk=$(( $(peek "$tmp/stream.vmdk" $((sgt + 4))) * 512 ))
cp "$tmp/stream.vmdk" "$tmp/lba.vmdk"
poke "$tmp/lba.vmdk" $mk 7 8
expect "$tmp/lba.vmdk" 2 "says lba 7, the grain table expects 128"
cp "$tmp/stream.vmdk" "$tmp/size.vmdk"
poke "$tmp/size.vmdk" $((mk + 8)) 0 4
expect "$tmp/size.vmdk" 2 "compressed size 0 is not valid"
cp "$tmp/stream.vmdk" "$tmp/dup.vmdk"
poke "$tmp/dup.vmdk" $((sgt + 8)) $(peek "$tmp/stream.vmdk" $((sgt + 4))) 4
expect "$tmp/dup.vmdk" 2 "says lba 128, the grain table expects 256"
exit 0
