#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile OVF envelopes: deep nesting, an external entity, a billion
# laughs, a DOCTYPE, numbers out of range, hrefs leaving the package,
# broken cross-references.  Each is one clear error naming the file and
# the line or element, a non-zero exit and no crash, hang or model.
. "$srcdir/functions.sh"

ovf=$srcdir/data/corpus/ovf/govmomi-photon.ovf

# hostile NAME PATTERN: inspect $tmp/NAME.ovf fails with PATTERN.
hostile() {
    local name=$1 pattern=$2
    expect_fail "$name" timeout 60 "$VMCONV" inspect --from vmware "$tmp/$name.ovf"
    grep -q -- "$pattern" "$tmp/expect_fail.out" || {
        cat "$tmp/expect_fail.out"; fail "$name: message lacks '$pattern'"; }
    grep -q -- "$tmp/$name.ovf" "$tmp/expect_fail.out" ||
        fail "$name: the message does not name the file"
    [ "$(grep -c . "$tmp/expect_fail.out")" -eq 1 ] || {
        cat "$tmp/expect_fail.out"; fail "$name: not one error line"; }
}

# edit NAME SED-EXPR...: $tmp/NAME.ovf is the photon envelope edited.
edit() {
    local name=$1
    shift
    sed "$@" "$ovf" > "$tmp/$name.ovf"
}

# Deep XML: 100000 nested elements inside the envelope.
python3 - "$ovf" "$tmp/deep.ovf" <<'PY' || fail "making deep.ovf"
import sys
s = open(sys.argv[1]).read()
i = s.index("<References>")
open(sys.argv[2], "w").write(s[:i] + "<a>" * 100000 + "</a>" * 100000 + s[i:])
PY
hostile deep "line [0-9]*: .*[Dd]epth\|line [0-9]*: .*nest"

# An external entity and a billion laughs (entities are refused, never
# expanded or fetched).
printf '<?xml version="1.0"?>\n<!DOCTYPE Envelope [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n' > "$tmp/xxe.ovf"
sed 1d "$ovf" | sed 's|<Info>Virtual disk information</Info>|<Info>\&xxe;</Info>|' >> "$tmp/xxe.ovf"
hostile xxe "line 2: .*entit"
{
    printf '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    prev=lol
    for i in 1 2 3 4 5 6 7 8 9; do
        printf ' <!ENTITY lol%d "%s">\n' $i "$(printf '&%s;' $prev $prev $prev $prev $prev $prev $prev $prev $prev $prev)"
        prev=lol$i
    done
    printf ']>\n'
    sed 1d "$ovf" | sed 's|<Info>Virtual disk information</Info>|<Info>\&lol9;</Info>|'
} > "$tmp/laughs.ovf"
hostile laughs "line [0-9]*: .*entit"

# Numbers out of range.
edit capacity 's/ovf:capacity="16"/ovf:capacity="99999999999999999999999"/'
hostile capacity "line 9: <Disk>: ovf:capacity: '99999999999999999999999' is out of range"
edit capacity2 's/ovf:capacity="16"/ovf:capacity="9000000000"/'
hostile capacity2 "line 9: <Disk>: ovf:capacity: 9000000000 x 1073741824 bytes is out of range"
edit units 's/ovf:capacityAllocationUnits="byte \* 2^30"/ovf:capacityAllocationUnits="byte * 2^99"/'
hostile units "<Disk>: ovf:capacityAllocationUnits: 'byte \* 2^99' is not a unit"
edit memory 's|<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>|<rasd:VirtualQuantity>18446744073709551615</rasd:VirtualQuantity>|'
hostile memory "<Item>: rasd:VirtualQuantity: '18446744073709551615' is out of range"
edit memory2 's|<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>|<rasd:VirtualQuantity>900000000000</rasd:VirtualQuantity>|'
hostile memory2 "<Item>: rasd:VirtualQuantity: 900000000000 x 1048576 bytes is out of range"
edit cpus 's|<rasd:VirtualQuantity>1</rasd:VirtualQuantity>|<rasd:VirtualQuantity>1000000</rasd:VirtualQuantity>|'
hostile cpus "<Item>: rasd:VirtualQuantity: '1000000' is out of range"
edit negative 's|<rasd:VirtualQuantity>1</rasd:VirtualQuantity>|<rasd:VirtualQuantity>-1</rasd:VirtualQuantity>|'
hostile negative "<Item>: rasd:VirtualQuantity: '-1' is not a whole number"
edit unit 's|<rasd:AddressOnParent>0</rasd:AddressOnParent>|<rasd:AddressOnParent>99999</rasd:AddressOnParent>|'
hostile unit "rasd:AddressOnParent: '99999' is out of range"

# hrefs that would leave the package.
for h in ../x.vmdk /etc/passwd http://example.com/x.vmdk 'a\\b.vmdk' sub/../../x.vmdk; do
    edit href 's|ovf:href="photon-disk1.vmdk"|ovf:href="'"$h"'"|'
    hostile href "<File>: ovf:href"
done

# Broken cross-references.
edit fileref 's/ovf:fileRef="file1"/ovf:fileRef="nosuch"/'
hostile fileref "<Disk>: ovf:fileRef 'nosuch' names no File"
edit diskid 's|ovf:/disk/vmdisk1|ovf:/disk/nosuch|'
hostile diskid "no Disk with ovf:diskId 'nosuch'"
edit parent 's|<rasd:Parent>3</rasd:Parent>|<rasd:Parent>77</rasd:Parent>|'
hostile parent "rasd:Parent '77' names no controller Item"
edit dupid 's|ovf:id="file1" ovf:size|ovf:id="file1" ovf:size="1"/><File ovf:href="b" ovf:id="file1" ovf:size|'
hostile dupid "ovf:id 'file1' is used twice"

# Not an OVF 1.x/2.0 envelope: OVF 0.9's namespace.
edit old 's|http://schemas.dmtf.org/ovf/envelope/1|http://www.vmware.com/schema/ovf/1/envelope|g'
printf '<!-- schemas.dmtf.org/ovf/envelope/ -->\n' >> "$tmp/old.ovf"
hostile old "not an OVF 1.x or 2.0 envelope"

# Binary junk after a valid start.
{ head -c 300 "$ovf"; head -c 4096 /dev/urandom; } > "$tmp/junk.ovf"
hostile junk "line [0-9]*"
