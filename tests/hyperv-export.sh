#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A Hyper-V export folder made here: "Virtual Machines/<GUID>.xml" (a
# generation 2 VM, in Hyper-V's UTF-16LE with a byte order mark),
# "Virtual Hard Disks/" holding a two-level checkpoint chain
# (top.avhdx -> mid.avhdx -> base.vhdx, written by vhdx-make-diff.py,
# independently of vmconv's driver) and a VHDX made by qemu-img,
# "Snapshots/" holding one more disk, an ISO, and a disk that is not
# there.  The configuration names every file by its Hyper-V host path
# (C:\ClusterStorage\...): they are found by base name in the folder.
# The model (golden file) shows the chain, format, sizes, the missing
# disk, the static MAC, secure boot, dynamic memory; the three ways to
# name the source (folder, Virtual Machines/<GUID>.xml, the XML copied
# elsewhere, and the same configuration as a .vmcx) agree; the current
# state converts to raw with the data
# the chain's writer computed; the sources are not modified; a saved
# state is refused.
. "$srcdir/functions.sh"
requires python3
requires_qemu_img

PY=python3
exp=$tmp/export
vhd="$exp/Virtual Hard Disks"
mkdir -p "$exp/Virtual Machines" "$vhd" "$exp/Snapshots"
"$PY" "$srcdir/vhdx-make-diff.py" chain3 "$tmp/chain" ||
    fail "vhdx-make-diff.py chain3"
cp "$tmp/chain/base.vhdx" "$tmp/chain/mid.avhdx" "$tmp/chain/top.avhdx" "$vhd/"
qemu_img create -q -f vhdx "$vhd/data.vhdx" 8M
qemu_img create -q -f vhdx "$exp/Snapshots/extra.vhdx" 4M
printf 'not really an ISO\n' > "$vhd/install.iso"

guid=4A6A1F3E-5B4C-4D2E-9F10-1234567890AB
cfg="$exp/Virtual Machines/$guid.xml"
"$PY" - "$cfg" <<'PY'
import sys
xml = r'''<?xml version="1.0" encoding="UTF-16" standalone="yes"?>
<configuration>
  <_ac6b8dc1-3257-4a70-b1b2-a9c9215659ad_>
    <VDEVVersion type="integer">512</VDEVVersion>
    <bios_guid type="string">{11223344-5566-7788-99AA-BBCCDDEEFF00}</bios_guid>
    <secure_boot_enabled type="bool">True</secure_boot_enabled>
  </_ac6b8dc1-3257-4a70-b1b2-a9c9215659ad_>
  <_7c6e1c41-2c10-4a6b-8f2e-0123456789ab_>
    <ChannelInstanceGuid type="string">{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}</ChannelInstanceGuid>
    <controller0>
      <drive0>
        <pathname type="string">C:\ClusterStorage\Volume1\web01\Virtual Hard Disks\top.avhdx</pathname>
        <type type="string">VHD</type>
      </drive0>
      <drive1>
        <pathname type="string">C:\ClusterStorage\Volume1\web01\Virtual Hard Disks\DATA.VHDX</pathname>
        <type type="string">VHD</type>
      </drive1>
      <drive2>
        <pathname type="string">D:\elsewhere\gone.vhdx</pathname>
        <type type="string">VHD</type>
      </drive2>
      <drive3>
        <pathname type="string">C:\ISO\install.iso</pathname>
        <type type="string">ISO</type>
      </drive3>
    </controller0>
  </_7c6e1c41-2c10-4a6b-8f2e-0123456789ab_>
  <_0d2c8e51-8e3b-4f2a-b9a0-abcdefabcdef_>
    <controller0>
      <drive0>
        <pathname type="string">\\?\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\web01\Snapshots\extra.vhdx</pathname>
        <type type="string">VHD</type>
      </drive0>
    </controller0>
  </_0d2c8e51-8e3b-4f2a-b9a0-abcdefabcdef_>
  <_55225880-49c0-4438-9ce2-5a01402fd8cb_>
    <Connection>
      <AltSwitchName type="string">LAN 'prod'</AltSwitchName>
    </Connection>
    <FriendlyName type="string">Network Adapter</FriendlyName>
    <IsConnected type="bool">True</IsConnected>
    <MacAddress type="string">00155DAABB01</MacAddress>
    <MacAddressIsStatic type="bool">True</MacAddressIsStatic>
  </_55225880-49c0-4438-9ce2-5a01402fd8cb_>
  <_66225880-49c0-4438-9ce2-5a01402fd8cb_>
    <Connection>
      <AltSwitchName type="string"></AltSwitchName>
    </Connection>
    <FriendlyName type="string">Spare</FriendlyName>
    <IsConnected type="bool">False</IsConnected>
    <MacAddress type="string">000000000000</MacAddress>
    <MacAddressIsStatic type="bool">False</MacAddressIsStatic>
  </_66225880-49c0-4438-9ce2-5a01402fd8cb_>
  <global_settings>
    <devices>
      <generation_id type="string">00112233445566778899aabbccddeeff</generation_id>
    </devices>
    <snapshots>
      <list>
        <size type="integer">2</size>
      </list>
    </snapshots>
  </global_settings>
  <manifest>
    <vdev001>
      <device type="string">f3cf6965-e8d3-44a9-9b7d-a04245ea7525</device>
      <instance type="string">F3CF6965-E8D3-44A9-9B7D-A04245EA7525</instance>
      <name type="string">Microsoft Synthetic Video</name>
    </vdev001>
    <vdev002>
      <device type="string">2fc216b0-d2e2-4967-9b6d-b8a5c9ca2778</device>
      <instance type="string">55225880-49C0-4438-9CE2-5A01402FD8CB</instance>
      <name type="string">Synthetic Ethernet Port</name>
    </vdev002>
    <vdev003>
      <device type="string">2fc216b0-d2e2-4967-9b6d-b8a5c9ca2778</device>
      <instance type="string">66225880-49C0-4438-9CE2-5A01402FD8CB</instance>
      <name type="string">Synthetic Ethernet Port</name>
    </vdev003>
    <vdev004>
      <device type="string">d422512d-2bf2-4752-809d-7b82b5fcb1b4</device>
      <instance type="string">0D2C8E51-8E3B-4F2A-B9A0-ABCDEFABCDEF</instance>
      <name type="string">Synthetic SCSI Controller</name>
    </vdev004>
    <vdev005>
      <device type="string">d422512d-2bf2-4752-809d-7b82b5fcb1b4</device>
      <instance type="string">7C6E1C41-2C10-4A6B-8F2E-0123456789AB</instance>
      <name type="string">Synthetic SCSI Controller</name>
    </vdev005>
  </manifest>
  <properties>
    <global_id type="string">4A6A1F3E-5B4C-4D2E-9F10-1234567890AB</global_id>
    <name type="string">web01 "prod"</name>
    <notes type="string">line one
line two</notes>
    <subtype type="integer">1</subtype>
    <version type="integer">1280</version>
  </properties>
  <settings>
    <memory>
      <bank>
        <dynamic_memory_enabled type="bool">True</dynamic_memory_enabled>
        <limit type="integer">8192</limit>
        <reservation type="integer">512</reservation>
        <size type="integer">2048</size>
      </bank>
    </memory>
    <processors>
      <count type="integer">4</count>
    </processors>
  </settings>
</configuration>
'''
# Keys the model does not use, so that the .vmcx made from this file
# spans several key tables and holds a file object (a long value).
extra = '  <unused>\n' + ''.join(
    '    <k%03d type="integer">%d</k%03d>\n' % (i, i * 7, i) for i in range(150)) + \
    '    <long type="string">' + 'x' * 3000 + '</long>\n  </unused>\n'
xml = xml.replace('</configuration>', extra + '</configuration>')
open(sys.argv[1], 'wb').write(b'\xff\xfe' + xml.replace('\n', '\r\n').encode('utf-16-le'))
PY

# Two checkpoints: their configurations name the disk as it was then
# (the chain's base, then its middle), and their creation times.
"$PY" - "$exp/Snapshots" <<'PY'
import base64, struct, sys
for guid, name, when, disk in (
        ("9B1D3C55-0E2A-4F60-8B7C-111111111111", "before upgrade",
         1709288430, "base.vhdx"),
        ("9B1D3C55-0E2A-4F60-8B7C-222222222222", "after 'upgrade'",
         1709366400, "mid.avhdx")):
    ft = base64.b64encode(struct.pack("<Q", (when + 11644473600) * 10**7)).decode()
    xml = f'''<?xml version="1.0" encoding="UTF-16" standalone="yes"?>
<configuration>
  <_0d2c8e51-8e3b-4f2a-b9a0-abcdefabcdef_>
    <controller0>
      <drive0>
        <pathname type="string">\\?\Volume{{26a21bda-a627-11d7-9931-806e6f6e6963}}\web01\Snapshots\extra.vhdx</pathname>
        <type type="string">VHD</type>
      </drive0>
    </controller0>
  </_0d2c8e51-8e3b-4f2a-b9a0-abcdefabcdef_>
  <_7c6e1c41-2c10-4a6b-8f2e-0123456789ab_>
    <controller0>
      <drive0>
        <pathname type="string">C:\ClusterStorage\Volume1\web01\Virtual Hard Disks\{disk}</pathname>
        <type type="string">VHD</type>
      </drive0>
    </controller0>
  </_7c6e1c41-2c10-4a6b-8f2e-0123456789ab_>
  <manifest>
    <vdev004>
      <device type="string">d422512d-2bf2-4752-809d-7b82b5fcb1b4</device>
      <instance type="string">0D2C8E51-8E3B-4F2A-B9A0-ABCDEFABCDEF</instance>
    </vdev004>
    <vdev005>
      <device type="string">d422512d-2bf2-4752-809d-7b82b5fcb1b4</device>
      <instance type="string">7C6E1C41-2C10-4A6B-8F2E-0123456789AB</instance>
    </vdev005>
  </manifest>
  <properties>
    <creation_time type="bytes">{ft}
</creation_time>
    <name type="string">{name}</name>
    <subtype type="integer">1</subtype>
  </properties>
</configuration>
'''
    open(f"{sys.argv[1]}/{guid}.xml", "wb").write(b"\xff\xfe" + xml.encode("utf-16-le"))
PY

before=$(for f in "$exp"/*/*; do fingerprint "$f"; done)

"$VMCONV" inspect --json "$exp" > "$tmp/folder.json" 2> "$tmp/err" ||
    { cat "$tmp/err"; fail "inspect the export folder"; }
"$VMCONV" inspect --json "$cfg" > "$tmp/xml.json" ||
    fail "inspect Virtual Machines/$guid.xml"
golden_paths "$tmp/folder.json"
golden_paths "$tmp/xml.json"
compare_golden "$tmp/folder.json" hyperv/export-gen2.json
# The same model whichever way the source is named.
diff <(grep -v '"source-path"' "$tmp/folder.json") \
     <(grep -v '"source-path"' "$tmp/xml.json") ||
    fail "the folder and its configuration give different models"

"$PY" - "$tmp/folder.json" <<'PY' || fail "facts"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["name"] == 'web01 "prod"' and v["description"] == "line one\nline two"
assert v["firmware"] == "uefi" and v["secure-boot"] and v["machine"] == "hyperv-gen2"
assert v["secure-boot-template"] == "microsoft-windows"
assert v["uuid"] == "11223344-5566-7788-99aa-bbccddeeff00"
assert v["vcpus"] == 4 and v["memory"] == 2048 << 20
assert v["memory-min"] == 512 << 20 and v["memory-max"] == 8192 << 20
d = v["disks"]
# Controllers in manifest order: the one holding extra.vhdx is scsi0.
assert [(x["device"], x["bus"], x["controller"], x["unit"]) for x in d] == [
    ("disk", "scsi", 0, 0), ("disk", "scsi", 1, 0), ("disk", "scsi", 1, 1),
    ("disk", "scsi", 1, 2), ("cdrom", "scsi", 1, 3)], d
assert all(x["controller-model"] == "hyperv-scsi" for x in d)
assert d[0]["path"] == "@tmp@/export/Snapshots/extra.vhdx"
top = d[1]
assert top["path"] == "@tmp@/export/Virtual Hard Disks/top.avhdx", top["path"]
assert top["format"] == "vhdx" and top["virtual-size"] == 16 << 20
assert top["backing"] == ["@tmp@/export/Virtual Hard Disks/mid.avhdx",
                          "@tmp@/export/Virtual Hard Disks/base.vhdx"], top["backing"]
assert d[2]["path"].endswith("/data.vhdx") and d[2]["virtual-size"] == 8 << 20
assert d[3]["missing"] and d[3]["path"] is None
assert d[3]["source-ref"] == "D:\\elsewhere\\gone.vhdx"
assert d[4]["reference-only"] and d[4]["path"].endswith("/install.iso")
n = [(x["mac"], x["mac-kind"], x["network-type"], x["network"], x["connection"])
     for x in v["nics"]]
assert n == [("00:15:5d:aa:bb:01", "static", "network", "LAN 'prod'", "connected"),
             (None, "dynamic", "none", None, "disconnected")], n
notes = "\n".join(v["notes"])
assert "D:\\elsewhere\\gone.vhdx' not found" in notes
assert "dynamic MAC address not assigned yet" in notes
assert "2 checkpoint(s) read from the export's Snapshots folder" in notes
s = [(x["id"], x["name"], x["parent"], x["created"],
      [(y["disk"], y["path"]) for y in x["disks"]]) for x in v["snapshots"]]
vhd = "@tmp@/export/Virtual Hard Disks/"
assert s == [
    ("9b1d3c55-0e2a-4f60-8b7c-111111111111", "before upgrade", None, 1709288430,
     [(0, "@tmp@/export/Snapshots/extra.vhdx"), (1, vhd + "base.vhdx")]),
    ("9b1d3c55-0e2a-4f60-8b7c-222222222222", "after 'upgrade'", None, 1709366400,
     [(0, "@tmp@/export/Snapshots/extra.vhdx"), (1, vhd + "mid.avhdx")])], s
assert "over 2 parent(s): the current state is converted" in notes
PY

# The XML alone, copied elsewhere: no export folder; the disks are
# missing, the rest is the same VM.
mkdir -p "$tmp/alone"
cp "$cfg" "$tmp/alone/vm.xml"
"$VMCONV" inspect --json "$tmp/alone/vm.xml" > "$tmp/alone.json" ||
    fail "inspect the XML alone"
"$PY" - "$tmp/alone.json" <<'PY' || fail "alone"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["name"] == 'web01 "prod"'
assert [x["missing"] for x in v["disks"]] == [True] * 5, v["disks"]
PY

# The current state of the checkpoint chain reads as the data the
# chain's writer computed.
"$VMCONV" disk convert -O raw "$vhd/top.avhdx" "$tmp/top.raw" ||
    fail "convert top.avhdx"
"$PY" "$srcdir/vhdx-make-diff.py" cmp "$tmp/top.raw" "$tmp/chain/top.raw" ||
    fail "top.avhdx: guest data differs from the chain's"

after=$(for f in "$exp"/*/*; do fingerprint "$f"; done)
[ "$before" = "$after" ] || fail "a source file was modified"

# A saved state (the guest's memory beside the configuration) is
# refused.
mkdir -p "$exp/Virtual Machines/$guid"
printf 'memory' > "$exp/Virtual Machines/$guid/$guid.bin"
expect_fail "saved state" "$VMCONV" inspect "$exp"
grep -q "$guid.xml: the VM is in a saved state (its memory is in .*/$guid/$guid.bin)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "saved: message"; }
rm -r "$exp/Virtual Machines/$guid"

# The same VM as a Hyper-V 2016 export: the configuration as a .vmcx
# container (written from the XML by hyperv-make-vmcx.py, with the
# integers as Int keys, then as UInt keys): the same model.
for kind in int uint; do
    exp2=$tmp/export-vmcx-$kind
    mkdir -p "$exp2/Virtual Machines"
    cp -r "$vhd" "$exp/Snapshots" "$exp2/"
    flag=()
    [ $kind = uint ] && flag=(--uint)
    "$PY" "$srcdir/hyperv-make-vmcx.py" "$cfg" \
        "$exp2/Virtual Machines/$guid.vmcx" "${flag[@]}" ||
        fail "hyperv-make-vmcx.py"
    "$VMCONV" inspect --json "$exp2" > "$tmp/vmcx-$kind.json" ||
        fail "inspect the .vmcx export ($kind)"
    golden_paths "$tmp/vmcx-$kind.json"
    sed -i "s|@tmp@/export-vmcx-$kind/|@tmp@/export/|" "$tmp/vmcx-$kind.json"
    diff <(grep -v '"source-path"' "$tmp/folder.json") \
         <(grep -v '"source-path"' "$tmp/vmcx-$kind.json") ||
        fail "the .vmcx ($kind) and the XML give different models"
    # The guest state file beside it is the VM's firmware variables.
    printf 'guest state' > "$exp2/Virtual Machines/$guid.vmgs"
    "$VMCONV" inspect --json "$exp2" > "$tmp/vmgs.json" || fail "inspect with .vmgs"
    "$PY" -c "
import json, os
v = json.load(open('$tmp/vmgs.json'))
assert v['nvram-kind'] == 'hyperv-vmgs', v['nvram-kind']
assert v['nvram-path'] == os.path.realpath('$exp2/Virtual Machines/$guid.vmgs'), v['nvram-path']" ||
        fail ".vmgs not read"
    # A .vmrs holding the guest's memory beside it: a saved state.
    head -c 2M /dev/zero > "$exp2/Virtual Machines/$guid.vmrs"
    expect_fail "saved .vmcx" "$VMCONV" inspect "$exp2"
    grep -q "$guid.vmcx: the VM is in a saved state (its memory is in .*/$guid.vmrs, 2097152 bytes)" \
        "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "saved vmcx: message"; }
done

# A damaged checkpoint configuration: one error naming it.
bad=$exp/Snapshots/9B1D3C55-0E2A-4F60-8B7C-333333333333.xml
printf '<?xml version="1.0"?>\n<configuration><properties><name type="string">x</name><creation_time type="bytes">AAAA</creation_time></properties></configuration>\n' > "$bad"
expect_fail "bad checkpoint" "$VMCONV" inspect "$exp"
grep -q "9B1D3C55-0E2A-4F60-8B7C-333333333333.xml: line 2: configuration/properties/creation_time: not a FILETIME (8 bytes)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "bad checkpoint: message"; }
rm "$bad"

# Two configurations in one folder: say which to read.
cp "$cfg" "$exp/Virtual Machines/other.xml"
expect_fail "two configurations" "$VMCONV" inspect "$exp"
grep -q "Virtual Machines: 2 configurations (.xml, .vmcx) in it: give the one to read" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "two: message"; }
