#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv disk: --machine-readable maps each event of the disk job to one
# JSON line (phases, progress with skipped bytes, the error's kind), and
# `disk info` prints names read from an image terminal-safe.
. "$srcdir/functions.sh"
V=$VMCONV

truncate -s 32M "$tmp/in.raw"
dd if=/dev/urandom of="$tmp/in.raw" bs=1M count=2 seek=4 conv=notrunc status=none

$V disk convert --machine-readable --verify -O qcow2 "$tmp/in.raw" "$tmp/out.qcow2" \
    > "$tmp/mr.json"
python3 - "$tmp/mr.json" <<'PY' || fail "machine-readable events: $(cat "$tmp/mr.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
starts = [e["phase"] for e in ev if e["event"] == "phase-start"]
ends = [e["phase"] for e in ev if e["event"] == "phase-end"]
assert starts == ["open", "create", "copy", "commit", "verify"], starts
assert ends == starts, ends
copy = [e for e in ev if e["event"] == "progress" and e["phase"] == "copy"]
assert copy[-1]["done"] == copy[-1]["total"] == 32 << 20, copy[-1]
# 30 MiB of holes were skipped, the 2 MiB of data written.
assert copy[-1]["skipped"] == 30 << 20, copy[-1]
assert all("percent" in e for e in copy)
# One final progress line per phase.
for ph in ("copy", "verify"):
    fin = [e for e in ev if e["event"] == "progress" and e["phase"] == ph
           and e["done"] == e["total"]]
    assert len(fin) == 1, (ph, fin)
assert "disk" not in ev[0]
assert ev[-1]["event"] == "done", ev[-1]
PY

# Errors carry their kind.
rc=0
$V disk convert --machine-readable -O raw "$tmp/missing.raw" "$tmp/x.raw" \
    > "$tmp/err.json" 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "missing source: exit $rc"
tail -n1 "$tmp/err.json" | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
assert e["event"] == "error" and e["kind"] == "bad-input", e' ||
    fail "error line: $(cat "$tmp/err.json")"

# A name read from an image (here a VMDK descriptor's long content ID)
# holding an escape sequence is not sent to the terminal raw.
truncate -s 1M "$tmp/d-flat.vmdk"
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "d-flat.vmdk" 0\n\nddb.adapterType = "lsilogic"\nddb.longContentID = "\033[31mred"\n' \
    > "$tmp/d.vmdk"
$V disk info "$tmp/d.vmdk" > "$tmp/info.txt" || fail "disk info"
grep -q '31mred' "$tmp/info.txt" || fail "name not shown: $(cat -v "$tmp/info.txt")"
if grep -q $'\033' "$tmp/info.txt"; then
    fail "raw ESC in disk info output: $(cat -v "$tmp/info.txt")"
fi


# SIGINT mid-copy: the error line says "interrupted", exit 4, nothing
# left behind.  The signal is sent once the copy phase has begun.
dd if=/dev/urandom of="$tmp/big.raw" bs=1M count=128 status=none
$V disk convert --machine-readable -m 1 -c -O qcow2 "$tmp/big.raw" "$tmp/big.qcow2" \
    > "$tmp/int.json" 2>/dev/null &
pid=$!
for i in $(seq 100); do
    grep -q '"phase-start", "phase": "copy"' "$tmp/int.json" && break
    sleep 0.1
done
kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 5 ] || fail "SIGINT: exit $rc, expected 5: $(cat "$tmp/int.json")"
tail -n1 "$tmp/int.json" | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
assert e["event"] == "error" and e["kind"] == "interrupted", e' ||
    fail "SIGINT error line: $(tail -n1 "$tmp/int.json")"
[ ! -e "$tmp/big.qcow2" ] || fail "SIGINT: output left behind"
if ls -a "$tmp" | grep -q vmconv-; then fail "SIGINT: temporary file left behind"; fi
echo "disk-events: ok"
