#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end through `vmconv convert`: a Hyper-V 2012 R2 export whose
# disk is the current checkpoint (top.avhdx -> mid.avhdx -> base.vhdx,
# written by vhdx-make-diff.py independently of vmconv) converts to KVM
# with the guest data of the chain's current state, and to Hyper-V as a
# VHDX and a script naming it; the export is not modified.
. "$srcdir/functions.sh"
requires python3

PY=python3
exp=$tmp/export
mkdir -p "$exp/Virtual Machines" "$exp/Virtual Hard Disks"
"$PY" "$srcdir/vhdx-make-diff.py" chain3 "$tmp/chain" || fail "chain3"
cp "$tmp/chain/base.vhdx" "$tmp/chain/mid.avhdx" "$tmp/chain/top.avhdx" \
    "$exp/Virtual Hard Disks/"
cat > "$exp/Virtual Machines/4A6A1F3E-5B4C-4D2E-9F10-1234567890AB.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <_83f8638b-8dca-4152-9eda-2ca8b33039b4_>
    <controller0>
      <drive0>
        <pathname type="string">C:\VMs\web01\Virtual Hard Disks\top.avhdx</pathname>
        <type type="string">VHD</type>
      </drive0>
    </controller0>
  </_83f8638b-8dca-4152-9eda-2ca8b33039b4_>
  <_55225880-49c0-4438-9ce2-5a01402fd8cb_>
    <Connection><AltSwitchName type="string">LAN</AltSwitchName></Connection>
    <MacAddress type="string">00155DAABB01</MacAddress>
    <MacAddressIsStatic type="bool">True</MacAddressIsStatic>
  </_55225880-49c0-4438-9ce2-5a01402fd8cb_>
  <_ac6b8dc1-3257-4a70-b1b2-a9c9215659ad_>
    <boot><device0 type="string">HardDrive</device0></boot>
  </_ac6b8dc1-3257-4a70-b1b2-a9c9215659ad_>
  <manifest>
    <vdev001><device type="string">2fc216b0-d2e2-4967-9b6d-b8a5c9ca2778</device><instance type="string">55225880-49C0-4438-9CE2-5A01402FD8CB</instance></vdev001>
  </manifest>
  <properties><name type="string">web01</name><subtype type="integer">0</subtype><version type="integer">1280</version></properties>
  <settings><memory><bank><size type="integer">1024</size></bank></memory><processors><count type="integer">2</count></processors></settings>
</configuration>
XML
before=$(for f in "$exp"/*/*; do fingerprint "$f"; done)

"$VMCONV" convert "$exp" --to kvm -O "$tmp/kvm" > "$tmp/kvm.out" 2>&1 ||
    { cat "$tmp/kvm.out"; fail "convert --to kvm"; }
disk=$(ls "$tmp"/kvm/*.qcow2)
[ "$(echo "$disk" | wc -l)" -eq 1 ] || fail "kvm: not one disk: $disk"
"$VMCONV" disk convert -O raw "$disk" "$tmp/kvm.raw" || fail "kvm: to raw"
"$PY" "$srcdir/vhdx-make-diff.py" cmp "$tmp/kvm.raw" "$tmp/chain/top.raw" ||
    fail "kvm: the disk is not the checkpoint chain's current state"
grep -q "<mac address=.00:15:5d:aa:bb:01./>" "$tmp"/kvm/*.xml || fail "kvm: MAC not kept"

"$VMCONV" convert "$exp" --to hyperv -O "$tmp/hv" > "$tmp/hv.out" 2>&1 ||
    { cat "$tmp/hv.out"; fail "convert --to hyperv"; }
ps1=$tmp/hv/web01.ps1
[ -f "$ps1" ] || { ls "$tmp/hv"; fail "hyperv: no web01.ps1"; }
vhdx=$(cd "$tmp/hv" && ls *.vhdx)
[ "$(echo "$vhdx" | wc -l)" -eq 1 ] || fail "hyperv: not one VHDX: $vhdx"
grep -qF "New-VM -Name \$Name -Generation 1 -MemoryStartupBytes 1073741824" "$ps1" ||
    { cat "$ps1"; fail "hyperv: New-VM"; }
grep -qF "Add-VMHardDiskDrive -VM \$vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path (Join-Path \$DiskPath '$vhdx')" "$ps1" ||
    { cat "$ps1"; fail "hyperv: the disk"; }
grep -qF "Set-VMBios -VM \$vm -StartupOrder @('IDE', 'CD', 'LegacyNetworkAdapter', 'Floppy')" "$ps1" ||
    { cat "$ps1"; fail "hyperv: boot order"; }
grep -qF -- "-StaticMacAddress '00155DAABB01'" "$ps1" || fail "hyperv: MAC"
"$PY" "$srcdir/hyperv-ps1-check.py" "$ps1" web01 LAN || fail "hyperv: quoting"
"$VMCONV" disk convert -O raw "$tmp/hv/$vhdx" "$tmp/hv.raw" || fail "hyperv: to raw"
"$PY" "$srcdir/vhdx-make-diff.py" cmp "$tmp/hv.raw" "$tmp/chain/top.raw" ||
    fail "hyperv: the VHDX is not the checkpoint chain's current state"

# The plugin takes no parameters, and no libvirt URI.
expect_fail "-io" "$VMCONV" inspect -io colour=red "$exp"
grep -q "hyperv plugin: unknown read parameter 'colour=red' (it takes none)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "-io: message"; }
expect_fail "-oo" "$VMCONV" convert "$exp" --to hyperv -oo colour=red -O "$tmp/hv2"
grep -q "hyperv plugin: unknown write parameter 'colour=red' (it takes none)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "-oo: message"; }
[ ! -e "$tmp/hv2" ] || fail "-oo: output left"

after=$(for f in "$exp"/*/*; do fingerprint "$f"; done)
[ "$before" = "$after" ] || fail "the export was modified"
