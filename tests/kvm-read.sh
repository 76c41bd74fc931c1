#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kvm plugin reads libvirt domain XML: the model of every test domain
# (tests/data/libvirt, tests/data/corpus/libvirt, and the shared corpus's
# libvirt domains when it is present) is a golden file; each is written again as a domain (golden
# too), which libvirt's schema accepts (virt-xml-validate), and read back
# into the same model (kvm-roundtrip.py lists what the writer changes on
# purpose).  VMCONV_TEST_REGENERATE=1 rewrites the golden files.
. "$srcdir/functions.sh"
requires python3 virt-xml-validate

# The comparison itself fails on a changed field.
rt_selftest() {
    local x=$srcdir/data/libvirt/vmconv-features.xml
    "$VMCONV" inspect --json "$x" > "$tmp/self1.json" || fail "inspect $x"
    sed 's/52:54:00:aa:bb:cc/52:54:00:aa:bb:00/' "$tmp/self1.json" > "$tmp/self2.json"
    python3 "$srcdir/kvm-roundtrip.py" "$tmp/self1.json" "$tmp/self2.json" \
        > "$tmp/self.out" && fail "kvm-roundtrip.py passed a changed MAC"
    grep -q "52:54:00:aa:bb:00" "$tmp/self.out" || fail "kvm-roundtrip.py: no difference shown"
}
rt_selftest

# check XML GOLDEN-NAME: read, golden model, write, validate, golden
# domain, read back, same model.
check() {
    local x=$1 g=$2 o=$tmp/out/$2
    mkdir -p "$o"
    "$VMCONV" inspect --json "$x" > "$o/model.json" 2> "$o/err" ||
        { cat "$o/err"; fail "$g: inspect failed"; }
    golden_paths "$o/model.json"
    sed -i "s|$VMCONV_CORPUS|@corpus@|g" "$o/model.json"
    compare_golden "$o/model.json" "kvm/read/$g.json"
    "$VMCONV" inspect "$x" > /dev/null || fail "$g: inspect (text) failed"
    "$builddir/kvm-write-vm" --name dom "$x" "$o" 2> "$o/err" ||
        { cat "$o/err"; fail "$g: writing it again failed"; }
    virt-xml-validate "$o/dom.xml" domain > "$o/validate" 2>&1 ||
        { cat "$o/validate"; fail "$g: the domain written does not validate"; }
    cp "$o/dom.xml" "$o/dom.golden.xml"
    golden_paths "$o/dom.golden.xml"
    compare_golden "$o/dom.golden.xml" "kvm/write/$g.xml"
    "$VMCONV" inspect --json "$o/dom.xml" > "$o/again.json" ||
        fail "$g: reading the domain written failed"
    "$VMCONV" inspect --json "$x" > "$o/first.json"
    python3 "$srcdir/kvm-roundtrip.py" "$o/first.json" "$o/again.json" ||
        fail "$g: the round trip lost or changed fields (above)"
}

# The libvirt domains the tests read: vmconv's own (data/libvirt),
# libvirt's test domains (data/corpus/libvirt, LGPL), and the shared
# corpus's others (virt-manager's, GPL) when it is present.
kvm_domains=("$srcdir"/data/libvirt/*.xml "$VMCONV_TEST_DATA"/libvirt/*.xml)
if [ -d "$VMCONV_CORPUS/libvirt" ]; then
    for x in "$VMCONV_CORPUS"/libvirt/*.xml; do
        [ -f "$VMCONV_TEST_DATA/libvirt/$(basename "$x")" ] || kvm_domains+=("$x")
    done
else
    echo "SKIP: part of the test: the virt-manager domains are only in the" \
         "shared corpus (not redistributable here), not found at $VMCONV_CORPUS"
fi
n=0
for x in "${kvm_domains[@]}"; do
    check "$x" "$(basename "$x" .xml)"
    n=$((n + 1))
done
echo "$n domains read, written, validated and read back"

# The source is opened read-only and left as it was.
x=$srcdir/data/libvirt/vmconv-features.xml
before=$(fingerprint "$x")
"$VMCONV" inspect "$x" > /dev/null
[ "$before" = "$(fingerprint "$x")" ] || fail "inspect changed $x"

# Read parameters: unknown ones and bad values are refused.
expect_fail "-io bogus=1" "$VMCONV" inspect -io bogus=1 "$x"
grep -qF "unknown read parameter 'bogus=1'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "-io bogus: wrong message"; }
expect_fail "-io allow-running=maybe" "$VMCONV" inspect -io allow-running=maybe "$x"
grep -qF "allow-running: 'maybe'" "$tmp/expect_fail.out" ||
    { cat "$tmp/expect_fail.out"; fail "allow-running=maybe: wrong message"; }
# A live domain (virsh dumpxml of a running guest has an id) is refused
# unless allow-running=on.
sed 's/<domain type=.kvm.>/<domain type="kvm" id="7">/' "$x" > "$tmp/live.xml"
expect_fail "live domain" "$VMCONV" inspect "$tmp/live.xml"
grep -qxF "vmconv: $tmp/live.xml: the domain is running (id 7): its disks are changing while they would be copied; shut it down, or allow reading it anyway (allow-running=on)" \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "live domain: wrong message"; }
"$VMCONV" inspect -io allow-running=on "$tmp/live.xml" > /dev/null ||
    fail "allow-running=on did not read the live domain"
# A URI that cannot be reached is one error naming it.
expect_fail "-ic unreachable" "$VMCONV" inspect -ic "qemu+unix:///system?socket=$tmp/none" web01
grep -q "^vmconv: qemu+unix:///system?socket=$tmp/none: cannot connect to libvirt (read-only): " \
    "$tmp/expect_fail.out" || { cat "$tmp/expect_fail.out"; fail "-ic unreachable: wrong message"; }
[ "$(wc -l < "$tmp/expect_fail.out")" -eq 1 ] ||
    { cat "$tmp/expect_fail.out"; fail "-ic unreachable: more than one line"; }
