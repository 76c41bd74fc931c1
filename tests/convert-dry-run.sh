#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert --dry-run reads and plans, and changes nothing: the
# sources keep their checksums and mtimes, no file appears anywhere
# (no OUTDIR, no temporary directory), and the plan names every disk
# with its chain, sizes and target file, the devices, the networks, the
# guest fix and the space.  --json gives the same as one document.  A
# missing disk is a risk that makes the dry run fail (exit 1) after
# printing the plan.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
V=$VMCONV

mkdir "$tmp/src"
dd if=/dev/urandom of="$tmp/src/base.raw" bs=1M count=1 seek=2 status=none
truncate -s 16M "$tmp/src/base.raw"
qemu_img create -q -f qcow2 -b base.raw -F raw "$tmp/src/top.qcow2"
cat > "$tmp/src/vm.vmconv-example" <<'EOT'
vmconv-example 1
name = plan
vcpus = 2
memory = 1G

[disk]
file = top.qcow2
bus = ide
boot = 1

[nic]
mac = 52:54:00:00:00:09
network = lan
EOT
# The state of everything under $tmp: names, sizes, mtimes, checksums.
snapshot() {
    (cd "$tmp" && find . -path ./snap -prune -o -print0 | sort -z |
        xargs -0 stat -c '%n %s %Y %a' && find src -type f -print0 | sort -z |
        xargs -0 sha256sum)
}
mkdir "$tmp/snap"              # the test's own files, not looked at
snapshot > "$tmp/snap/before"

"$V" convert "$tmp/src/vm.vmconv-example" --to example -O "$tmp/out" \
    --dry-run --bridge lan:br0 > "$tmp/snap/plan.txt" 2> "$tmp/snap/err" ||
    fail "dry run: $(cat "$tmp/snap/err")"
"$V" convert "$tmp/src/vm.vmconv-example" --to example -O "$tmp/out" \
    --dry-run --json --bridge lan:br0 > "$tmp/snap/plan.json" 2> "$tmp/snap/err" ||
    fail "dry run --json: $(cat "$tmp/snap/err")"
snapshot > "$tmp/snap/after"
diff -u "$tmp/snap/before" "$tmp/snap/after" || fail "the dry run changed something"

p=$tmp/snap/plan.txt
for l in \
    "Plan (dry run): convert $tmp/src/vm.vmconv-example (read as example) for example into $tmp/out" \
    "    disk 0 (disk): $tmp/src/top.qcow2" \
    "        qcow2, 16 MiB virtual, " \
    "        backed by $tmp/src/base.raw (raw)" \
    "     -> $tmp/out/plan-disk1.qcow2" \
    "    nic 0 52:54:00:00:00:09: network lan -> bridge br0 (lan:br0)" \
    "  guest fix: skipped (--no-guest-fix)" \
    "  space:     about "; do
    grep -qF -- "$l" "$p" || { cat "$p"; fail "plan: no '$l'"; }
done
python3 - "$tmp/snap/plan.json" "$tmp" <<'PY' || fail "plan JSON"
import json, sys
d = json.load(open(sys.argv[1])); t = sys.argv[2]
assert d["schema"] == "vmconv-convert/1" and d["dry-run"] is True
disk = d["disks"][0]
assert disk["convert"] and disk["source"]["format"] == "qcow2", disk
assert [c["path"] for c in disk["source"]["chain"]] == \
    [t + "/src/top.qcow2", t + "/src/base.raw"], disk["source"]["chain"]
assert disk["source"]["virtual-size"] == 16 << 20
assert disk["source"]["data-size"] == 1 << 20, disk["source"]
assert disk["target"] == {**disk["target"], "file": "plan-disk1.qcow2",
                          "format": "qcow2", "path": t + "/out/plan-disk1.qcow2"}
assert d["networks"][0]["to"] == "br0" and d["networks"][0]["to-type"] == "bridge"
assert d["space"]["fits"] and d["space"]["needed"] > 1 << 20
assert d["guest-fix"]["run"] is False
assert "files" not in d and d["result"]["ok"] and d["result"]["outdir"] is None
PY

# A missing disk: listed as a risk, the dry run fails with exit 1.
rm "$tmp/src/top.qcow2"
rc=0
"$V" convert "$tmp/src/vm.vmconv-example" --to example -O "$tmp/out" \
    --dry-run > "$tmp/snap/p2" 2> "$tmp/snap/e2" || rc=$?
[ $rc -eq 1 ] || fail "missing disk: exit $rc, expected 1"
grep -q "^    error: disks\[0\]: .*top.qcow2.*No such file or directory" "$tmp/snap/p2" ||
    { cat "$tmp/snap/p2"; fail "missing disk: no risk listed"; }
[ ! -e "$tmp/out" ] || fail "missing disk: output"
exit 0
