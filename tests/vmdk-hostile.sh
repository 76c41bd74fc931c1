#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Damaged and hostile VMDK images: each must fail with exit 1 and a
# message naming the file, never crash, hang or allocate wildly.
. "$srcdir/functions.sh"
requires_qemu_img

# poke FILE OFFSET VALUE BYTES: store VALUE little-endian.
poke() {
    local s="" i
    for ((i = 0; i < $4; i++)); do
        s+=$(printf '\\x%02x' $(( ($3 >> (8 * i)) & 255 )))
    done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# peek FILE OFFSET: the little-endian u32 there.
peek() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }

# bad CASE FILE [FORMAT [PATTERN [NAMED]]]: reading FILE fails cleanly
# with a message naming FILE (or NAMED) and matching PATTERN.
bad() {
    local what=$1 img=$2 rc=0
    "$IMGTOOL" read "$img" "$tmp/out.raw" ${3:-} > "$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || { cat "$tmp/out.txt"; fail "$what: exit $rc, not 1"; }
    grep -qF "${5:-$img}" "$tmp/out.txt" ||
        { cat "$tmp/out.txt"; fail "$what: the message names no file"; }
    [ -n "${4:-}" ] && { grep -q -- "$4" "$tmp/out.txt" ||
        { cat "$tmp/out.txt"; fail "$what: expected '$4'"; }; }
    rm -f "$tmp/out.raw"
}

truncate -s 1M "$tmp/in.raw"
head -c 200000 /dev/urandom | dd of="$tmp/in.raw" conv=notrunc status=none
qemu_img convert -f raw -O vmdk "$tmp/in.raw" "$tmp/sparse.vmdk"
qemu_img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/in.raw" \
    "$tmp/stream.vmdk"
"$IMGTOOL" read "$tmp/sparse.vmdk" "$tmp/out.raw" || fail "good sparse image"
"$IMGTOOL" read "$tmp/stream.vmdk" "$tmp/out.raw" || fail "good stream image"

# fresh NAME [SRC]: a scratch copy to damage.
fresh() { cp "$tmp/${2:-sparse}.vmdk" "$tmp/$1.vmdk"; echo "$tmp/$1.vmdk"; }

f=$(fresh magic); poke "$f" 0 0x41414141 4
bad "bad magic" "$f" vmdk
f=$(fresh version); poke "$f" 4 9 4
bad "version 9" "$f" "" "version 9"
f=$(fresh grain0); poke "$f" 20 0 8
bad "grainSize 0" "$f" "" "grain size 0"
f=$(fresh grain3); poke "$f" 20 3 8
bad "grainSize not a power of two" "$f" "" "grain size 3"
f=$(fresh grainhuge); poke "$f" 20 $((1 << 40)) 8
bad "grainSize huge" "$f" "" "grain size"
f=$(fresh gtes); poke "$f" 44 $((1 << 31)) 4
bad "numGTEsPerGT huge" "$f" "" "entries per grain table"
f=$(fresh capacity); poke "$f" 12 $((1 << 60)) 8
bad "capacity huge" "$f" "" "capacity"
f=$(fresh capacity2); poke "$f" 12 $((1 << 45)) 8
bad "capacity past the grain directory" "$f" "" "grain directory"
f=$(fresh gdoff); poke "$f" 56 $((1 << 40)) 8
bad "gdOffset past EOF" "$f" "" "grain directory"
f=$(fresh gdoff2); poke "$f" 56 $((1 << 62)) 8
bad "gdOffset overflowing" "$f" "" "grain directory"
f=$(fresh flags); poke "$f" 8 $((0x00040003)) 4
bad "unknown incompatible flag" "$f" "" "incompatible flags"
f=$(fresh newline); poke "$f" 73 10 1; poke "$f" 75 10 1
bad "newline bytes" "$f" "" "newline"
f=$(fresh desc); poke "$f" 36 $((1 << 40)) 8
bad "descriptor size huge" "$f" "" "descriptor"

# Grain table entries: past the end of the file, inside the metadata.
f=$(fresh gte)
gd=$(od -An -t u8 -j 56 -N 8 "$f" | tr -d ' ')
gt=$(peek "$f" $((gd * 512)))
poke "$f" $((gt * 512)) $((1 << 30)) 4
bad "GTE past EOF" "$f" "" "past the end of the file"
f=$(fresh gte2)
poke "$f" $((gt * 512)) 2 4
bad "GTE in the metadata" "$f" "" "inside the metadata"
f=$(fresh gde)
poke "$f" $((gd * 512)) $((1 << 30)) 4
bad "GDE past EOF" "$f" "" "past the end of the file"

# streamOptimized grain markers.
f=$(fresh s0 stream)
sgd=$(od -An -t u8 -j 56 -N 8 "$f" | tr -d ' ')
sgt=$(peek "$f" $((sgd * 512)))
mk=$(( $(peek "$f" $((sgt * 512))) * 512 ))
[ "$(od -An -t u8 -j $mk -N 8 "$f" | tr -d ' ')" = 0 ] || fail "marker lba 0"
poke "$f" $((mk + 8)) 0 4
bad "grain marker size 0" "$f" "" "compressed size 0"
f=$(fresh s1 stream); poke "$f" $((mk + 8)) $((0xffffffff)) 4
bad "grain marker size huge" "$f" "" "compressed size"
f=$(fresh s2 stream); poke "$f" $mk 128 8
bad "grain marker wrong lba" "$f" "" "lba 128"
f=$(fresh s3 stream); poke "$f" $((mk + 12)) 0 4
bad "grain data damaged" "$f" "" "damaged"
f=$(fresh s4 stream); poke "$f" 77 7 2
bad "unknown compression" "$f" "" "compression algorithm"

# Descriptors.
mkdir "$tmp/d" "$tmp/d/sub"
truncate -s 1M "$tmp/d/flat.img" "$tmp/outside.img"
desc() {
    printf '# Disk DescriptorFile\nversion=1\nCID=12345678\n'
    printf 'parentCID=ffffffff\ncreateType="monolithicFlat"\n'
    cat
}
desc <<< 'RW 2048 FLAT "flat.img" 0' > "$tmp/d/ok.vmdk"
"$IMGTOOL" read "$tmp/d/ok.vmdk" "$tmp/out.raw" || fail "good descriptor"
# qemu-img leaves the old text's end after the NUL when it rewrites a
# CID with fewer digits: the descriptor stops at the first NUL.
{ desc <<< 'RW 2048 FLAT "flat.img" 0'; printf '\0"\n'; head -c 500 /dev/zero; } \
    > "$tmp/d/tail.vmdk"
"$IMGTOOL" read "$tmp/d/tail.vmdk" "$tmp/out.raw" || fail "text after the NUL"
{ for ((i = 0; i < 70000; i++)); do echo 'RW 1 ZERO'; done; } |
    desc > "$tmp/d/many.vmdk"
bad "giant extent count" "$tmp/d/many.vmdk" "" "more than 65536 extents"
desc <<< 'RW 99999999999999999999 FLAT "flat.img" 0' > "$tmp/d/ovf.vmdk"
bad "extent size overflow" "$tmp/d/ovf.vmdk" "" "extent size"
desc <<< 'RW 4503599627370496 ZERO
RW 4503599627370496 ZERO
RW 4503599627370496 ZERO' > "$tmp/d/sum.vmdk"
bad "extent sizes adding up past the limit" "$tmp/d/sum.vmdk" "" "add up"
desc <<< 'RW 4096 FLAT "flat.img" 0' > "$tmp/d/short.vmdk"
bad "flat extent past its file" "$tmp/d/short.vmdk" "" "needs"
desc <<< 'RW 2048 FLAT "flat.img" 18446744073709551615' > "$tmp/d/off.vmdk"
bad "flat offset overflow" "$tmp/d/off.vmdk" "" "unexpected text"
desc <<< 'RW 2048 FLAT "../outside.img" 0' > "$tmp/d/escape.vmdk"
bad "extent path ../x" "$tmp/d/escape.vmdk" "" "leads outside"
desc <<< 'RW 2048 FLAT "'"$tmp"'/outside.img" 0' > "$tmp/d/abs.vmdk"
bad "absolute extent path" "$tmp/d/abs.vmdk" "" "leads outside"
desc <<< 'RW 2048 VMFSRDM "lun.vmdk"' > "$tmp/d/rdm.vmdk"
bad "raw device mapping" "$tmp/d/rdm.vmdk" "" "raw device mapping"
desc <<< 'RW 2048 FLAT "flat.img" 0
encryption.keySafe = "vmware:key/list/..."' > "$tmp/d/enc.vmdk"
bad "encrypted" "$tmp/d/enc.vmdk" "" "encrypted"
desc <<< 'RW 2048 FLAT "flat.img' > "$tmp/d/quote.vmdk"
bad "unterminated quote" "$tmp/d/quote.vmdk" "" "closing quote"
desc <<< 'RW 2048 SPARSE "flat.img"' > "$tmp/d/notsparse.vmdk"
bad "SPARSE extent that is not sparse" "$tmp/d/notsparse.vmdk" "" \
    "not a sparse" "$tmp/d/flat.img"
desc <<< 'RW 0 ZERO' > "$tmp/d/zero.vmdk"
bad "extent of 0 sectors" "$tmp/d/zero.vmdk" "" "extent size"
{ printf 'createType="monolithicFlat"\n'; head -c 70000 /dev/zero | tr '\0' a; echo; } \
    > "$tmp/d/longline.vmdk"
bad "line too long" "$tmp/d/longline.vmdk" "" "longer than"
desc < /dev/null > "$tmp/d/none.vmdk"
bad "no extents" "$tmp/d/none.vmdk" "" "no extents"

# A VMDK opened for writing is refused (vmconv never changes a source).
exit 0
