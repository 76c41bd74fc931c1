#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile and broken domain XML: each is one clear error naming the file
# (and the line where there is one), exit 1 (bad input), no crash, no hang, no file
# or network access.
. "$srcdir/functions.sh"

ok=$VMCONV_TEST_DATA/libvirt/libvirt-qemuxml2argv-q35-acpi-uefi.xml
# bad NAME EXPECTED-MESSAGE: $tmp/NAME.xml is refused with that message.
bad() {
    local f=$tmp/$1.xml rc=0
    timeout 20 "$VMCONV" inspect "$f" > "$tmp/out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/out"; fail "$1: exit $rc, expected 1"; }
    [ "$(wc -l < "$tmp/out")" -eq 1 ] || { cat "$tmp/out"; fail "$1: not one line"; }
    # "vmconv: FILE: [line N: ]MESSAGE"
    grep -q "^vmconv: $f: \(line [0-9]*: \)\?" "$tmp/out" && grep -qF -- "$2" "$tmp/out" ||
        { cat "$tmp/out"; fail "$1: expected 'vmconv: $f: [line N: ]$2'"; }
}
# edit NAME SED-EXPR: $tmp/NAME.xml is the good domain edited.
edit() { sed "$2" "$ok" > "$tmp/$1.xml"; }

# External entity (XXE): never fetched, refused.
echo SECRET > "$tmp/secret"
cat > "$tmp/xxe.xml" <<EOF2
<?xml version="1.0"?>
<!DOCTYPE domain [ <!ENTITY x SYSTEM "file://$tmp/secret"> ]>
<domain type='kvm'><name>&x;</name><memory>1</memory></domain>
EOF2
bad xxe "line 2: the document declares entities"
# Billion laughs.
{
    echo '<?xml version="1.0"?>'
    echo '<!DOCTYPE domain ['
    echo ' <!ENTITY a0 "lol">'
    for i in $(seq 1 9); do
        echo " <!ENTITY a$i \"&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));&a$((i-1));\">"
    done
    echo ']>'
    echo '<domain type="kvm"><name>&a9;</name></domain>'
} > "$tmp/laughs.xml"
bad laughs "line 3: the document declares entities"
# A DOCTYPE naming an external DTD on the network.
cat > "$tmp/net.xml" <<'EOF2'
<?xml version="1.0"?>
<!DOCTYPE domain SYSTEM "http://192.0.2.1/domain.dtd">
<domain type='kvm'><name>n</name><memory>1</memory><os><type>hvm</type></os></domain>
EOF2
# The external DTD is never fetched (192.0.2.1 is unreachable: a fetch
# would hang until the timeout): the domain is read at once.
timeout 20 "$VMCONV" inspect "$tmp/net.xml" > "$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "net: the domain with an external DTD was not read"; }
# Not well-formed.
head -c 300 "$ok" > "$tmp/cut.xml"
bad cut "line "
# Absurd numbers.
edit mem-huge "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='EiB'>99</memory>|"
bad mem-huge "line 4: <memory>: 99 EiB is absurd (more than 16 TiB)"
edit mem-overflow "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='KiB'>99999999999999999999999</memory>|"
bad mem-overflow "line 4: <memory>: 99999999999999999999999 is out of range"
edit mem-unit "s|<memory unit='KiB'>|<memory unit='furlongs'>|"
bad mem-unit "line 4: <memory>: unit 'furlongs' is not a libvirt size unit"
edit mem-neg "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='KiB'>-5</memory>|"
bad mem-neg "line 4: <memory>: '-5' is not a number"
edit vcpu-huge "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>1000000</vcpu>|"
bad vcpu-huge "<vcpu>: 1000000 is out of range"
edit vcpu-zero "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>0</vcpu>|"
bad vcpu-zero "<vcpu> is 0"
edit topo "s|</vcpu>|</vcpu><cpu><topology sockets='2' cores='2' threads='2'/></cpu>|"
bad topo "<topology>: 2 x 1 x 2 x 2 (sockets x dies x cores x threads) is not 1"
edit boot-huge "s|</os>|</os>|; s|<devices>|<devices><disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/><boot order='99999999999'/></disk>|"
bad boot-huge "<boot order>: 99999999999 is out of range"
# Missing or wrong elements.
edit no-name "/<name>/d"
bad no-name "<domain> has no <name>"
edit no-memory "/<memory/d"
bad no-memory "<domain> has no <memory>"
edit no-os "/<os>/,/<\/os>/d"
bad no-os "<domain> has no <os>"
edit xen "s|<type arch='x86_64' machine='q35'>hvm</type>|<type>linux</type>|"
bad xen "<os><type> is 'linux': only full virtualization (hvm) guests can be converted"
edit uuid "s|<uuid>.*</uuid>|<uuid>not-a-uuid</uuid>|"
bad uuid "<uuid>: 'not-a-uuid' is not a UUID"
edit no-target "s|<devices>|<devices><disk type='file' device='disk'><source file='/x'/></disk>|"
bad no-target "<disk> has no <target dev>"
edit bad-bus "s|<devices>|<devices><disk type='file' device='disk'><source file='/x'/><target dev='xda' bus='pigeon'/></disk>|"
bad bad-bus "<target bus='pigeon'> is not a bus vmconv knows"
edit bad-mac "s|<devices>|<devices><interface type='network'><mac address='zz:00:00:00:00:01'/><source network='default'/></interface>|"
bad bad-mac "<mac address='zz:00:00:00:00:01'> is not a MAC address"
edit dup-ctl "s|<devices>|<devices><controller type='scsi' index='1'/><controller type='scsi' index='1'/>|"
bad dup-ctl "<controller type='scsi'>: index 1 is used twice"
edit mixed-boot "s|</os>|<boot dev='hd'/></os>|; s|<devices>|<devices><disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/><boot order='1'/></disk>|"
bad mixed-boot "<os><boot dev> and per-device <boot order> cannot be mixed"
# A backing chain nested past the model's limit.
python3 - "$ok" "$tmp/deep.xml" <<'PY'
import sys
chain = "".join("<backingStore type='file'><format type='qcow2'/><source file='/b%d'/>" % i
                for i in range(100)) + "</backingStore>" * 100
s = open(sys.argv[1]).read().replace("<devices>",
    "<devices><disk type='file' device='disk'><source file='/x'/>" + chain +
    "<target dev='vda' bus='virtio'/></disk>")
open(sys.argv[2], "w").write(s)
PY
bad deep "<backingStore> nests too deep"
# Not a domain at all, and an empty file: the probe does not claim
# them; --from kvm says what is wrong.
echo '<network><name>x</name></network>' > "$tmp/network.xml"
: > "$tmp/empty.xml"
for f in network empty; do
    rc=0
    "$VMCONV" inspect --from kvm "$tmp/$f.xml" > "$tmp/out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { cat "$tmp/out"; fail "$f: exit $rc"; }
    grep -qxF "vmconv: $tmp/$f.xml: kvm plugin: not libvirt domain XML (its root element is not <domain>)" "$tmp/out" ||
        { cat "$tmp/out"; fail "$f: wrong message"; }
done
# A big file is refused before it is parsed.
{ echo "<domain type='kvm'><description>"; head -c 9000000 /dev/zero | tr '\0' 'a'; echo "</description></domain>"; } > "$tmp/big.xml"
rc=0
"$VMCONV" inspect --from kvm "$tmp/big.xml" > "$tmp/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$tmp/out")" -eq 1 ] || { cat "$tmp/out"; fail "big: exit $rc"; }
grep -q "$tmp/big.xml" "$tmp/out" || { cat "$tmp/out"; fail "big: file not named"; }
echo "every hostile domain refused with one error"
