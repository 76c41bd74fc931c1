#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images served over NBD on a Unix socket (qemu-nbd and/or nbdkit) and
# read by vmconv through libnbd: disk info, map, convert and compare of
# nbd+unix:// URIs.  A raw export's block status must give the same
# map as the local file (so the copy is sparse) and the same data runs
# as qemu-img map of the export; a qcow2 or streamOptimized VMDK file
# served as bytes is read as that format; names in a served image are
# not followed; a server without block status reads as all data.
. "$srcdir/functions.sh"
requires_qemu_img
requires python3
V=$VMCONV

have_qemu_nbd=false; have_nbdkit=false
command -v qemu-nbd >/dev/null 2>&1 && have_qemu_nbd=true
command -v nbdkit >/dev/null 2>&1 && have_nbdkit=true
if ! $have_qemu_nbd && ! $have_nbdkit; then
    echo "SKIP: neither qemu-nbd nor nbdkit is installed"
    exit 77
fi
rc=0
$V disk info "nbd+unix:///?socket=$tmp/none" > "$tmp/err" 2>&1 || rc=$?
if grep -q "built without libnbd" "$tmp/err"; then
    echo "SKIP: vmconv was built without libnbd"
    exit 77
fi
[ $rc -ne 0 ] || fail "a URI with no server behind it opened"

pids=()
stop_servers() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    return 0
}
cleanup_hooks+=(stop_servers)

# serve NAME CMD...: start a server on $tmp/NAME.sock; sets $uri.
serve() {
    local name=$1 sock=$tmp/$1.sock i
    shift
    "$@" &
    pids+=($!)
    for i in $(seq 100); do
        [ -S "$sock" ] && break
        sleep 0.1
    done
    [ -S "$sock" ] || fail "$name: the server did not start"
    uri="nbd+unix:///?socket=$sock"
}
qemu_serve() {          # qemu_serve NAME FMT FILE
    serve "$1" qemu-nbd -r -t -f "$2" -k "$tmp/$1.sock" "$3"
}
nbdkit_serve() {        # nbdkit_serve NAME FILE [FILTER...]
    local name=$1 file=$2
    shift 2
    serve "$name" nbdkit -f -r -U "$tmp/$name.sock" "$@" file "$file"
}

# Data runs of a `vmconv disk map --json` or `qemu-img map --output=json`
# listing, merged: "start length" lines.
data_runs() {
    python3 -c '
import json, sys
runs = []
for e in json.load(open(sys.argv[1])):
    data = e["type"] == "data" if "type" in e else e["data"]
    if not data:
        continue
    if runs and runs[-1][0] + runs[-1][1] == e["start"]:
        runs[-1][1] += e["length"]
    else:
        runs.append([e["start"], e["length"]])
for s, l in runs:
    print(s, l)
' "$1"
}

# A sparse 64 MiB disk: 3 MiB of data at 10 MiB, 64 KiB at 43.75 MiB.
truncate -s 64M "$tmp/pat.raw"
dd if=/dev/urandom of="$tmp/pat.raw" bs=1M count=3 seek=10 conv=notrunc status=none
dd if=/dev/urandom of="$tmp/pat.raw" bs=64K count=1 seek=700 conv=notrunc status=none
qemu_img convert -f raw -O qcow2 "$tmp/pat.raw" "$tmp/pat.qcow2"
qemu_img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/pat.raw" "$tmp/pat.vmdk"
mkdir "$tmp/chain"
cp "$tmp/pat.qcow2" "$tmp/chain/"
qemu_img create -q -f qcow2 -b pat.qcow2 -F qcow2 "$tmp/chain/child.qcow2"

check_raw_export() {    # check_raw_export WHO: $uri serves pat.raw
    local who=$1
    $V disk info "$uri" > "$tmp/info" || fail "$who: disk info"
    grep -q '^file format: raw' "$tmp/info" || { cat "$tmp/info"; fail "$who: not raw"; }
    $V disk map "$uri" > "$tmp/map.nbd" || fail "$who: disk map"
    $V disk map "$tmp/pat.raw" > "$tmp/map.local"
    diff "$tmp/map.local" "$tmp/map.nbd" || fail "$who: block status differs from the local file's holes"
    grep -q ' hole$' "$tmp/map.nbd" || fail "$who: no holes: block status not used"
    $V disk map --json "$uri" > "$tmp/map.json"
    qemu_img map -f raw --output=json "$uri" > "$tmp/qmap.json" || fail "$who: qemu-img map"
    diff <(data_runs "$tmp/qmap.json") <(data_runs "$tmp/map.json") ||
        fail "$who: data runs differ from qemu-img map of the export"
    $V disk convert -O qcow2 "$uri" "$tmp/out.qcow2" || fail "$who: convert"
    qemu_img compare -f raw -F qcow2 "$tmp/pat.raw" "$tmp/out.qcow2" || fail "$who: converted image differs"
    # Sparse: the output holds the 3 MiB + 64 KiB of data, not 64 MiB.
    [ "$(stat -c %s "$tmp/out.qcow2")" -lt $((8 << 20)) ] || fail "$who: the copy was not sparse"
    $V disk compare "$uri" "$tmp/pat.raw" > /dev/null || fail "$who: disk compare"
    rm -f "$tmp/out.qcow2"
}

# Reading FILE's bytes over NBD as its own format.
check_format_export() {     # check_format_export WHO FMT FILE
    local who=$1 fmt=$2 file=$3
    $V disk info "$uri" | grep -q "^file format: $fmt" || fail "$who: not probed as $fmt"
    $V disk convert -O raw "$uri" "$tmp/out.raw" || fail "$who: convert"
    qemu_img compare -f raw -F "$fmt" "$tmp/out.raw" "$file" || fail "$who: converted image differs"
    $V disk compare -f "$fmt" "$uri" "$file" > /dev/null || fail "$who: disk compare"
    rm -f "$tmp/out.raw"
}

check_refusals() {          # $uri serves chain/child.qcow2
    local who=$1
    expect_fail "$who: backing over NBD" $V disk convert -O raw "$uri" "$tmp/x.raw"
    grep -q "backing file 'pat.qcow2' is not followed" "$tmp/expect_fail.out" ||
        { cat "$tmp/expect_fail.out"; fail "$who: wrong refusal"; }
    [ ! -e "$tmp/x.raw" ] || fail "$who: output left behind"
}

if $have_qemu_nbd; then
    qemu_serve raw raw "$tmp/pat.raw";               check_raw_export qemu-nbd
    # qemu-nbd serving the guest view of a qcow2: a raw export.
    qemu_serve guest qcow2 "$tmp/pat.qcow2";         check_raw_export "qemu-nbd (qcow2 guest view)"
    qemu_serve q raw "$tmp/pat.qcow2";               check_format_export "qemu-nbd qcow2 bytes" qcow2 "$tmp/pat.qcow2"
    qemu_serve v raw "$tmp/pat.vmdk";                check_format_export "qemu-nbd vmdk bytes" vmdk "$tmp/pat.vmdk"
    qemu_serve c raw "$tmp/chain/child.qcow2";       check_refusals qemu-nbd
    echo "qemu-nbd: ok"
fi
if $have_nbdkit; then
    nbdkit_serve kraw "$tmp/pat.raw";                check_raw_export nbdkit
    nbdkit_serve kq "$tmp/pat.qcow2";                check_format_export "nbdkit qcow2 bytes" qcow2 "$tmp/pat.qcow2"
    nbdkit_serve kc "$tmp/chain/child.qcow2";        check_refusals nbdkit
    # No block status from the server: everything is data, read right.
    nbdkit_serve knx "$tmp/pat.raw" --filter=noextents
    $V disk map "$uri" > "$tmp/map.nbd" || fail "noextents: disk map"
    [ "$(cat "$tmp/map.nbd")" = "$(printf '%16s %16s data' 0 0x4000000)" ] ||
        { cat "$tmp/map.nbd"; fail "noextents: expected one data run"; }
    $V disk convert -O raw "$uri" "$tmp/out.raw" || fail "noextents: convert"
    cmp "$tmp/out.raw" "$tmp/pat.raw" || fail "noextents: converted image differs"
    echo "nbdkit: ok"
fi

