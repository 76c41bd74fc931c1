# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for the tests of nbdkit-vmconv-plugin (tests/nbdkit-*.sh).
# Source after functions.sh.

# Skip unless nbdkit is installed and the plugin was built.
requires_nbdkit_plugin() {
    requires nbdkit
    skip_under_sanitizer "nbdkit (built without one) cannot load a plugin" \
        "built with AddressSanitizer; the plain build runs this test"
    PLUGIN=${top_builddir:-..}/nbdkit/.libs/nbdkit-vmconv-plugin.so
    if [ ! -f "$PLUGIN" ]; then
        echo "SKIP: the nbdkit plugin was not built (configure found no" \
             "nbdkit-plugin-dev, or --without-nbdkit)"
        exit 77
    fi
}

# nbd_start PARAM...: start nbdkit in the background serving our plugin
# with PARAMs on a private socket; sets $uri.  Waits until nbdkit is
# ready (it writes the PID file only then).  Fails, showing nbdkit's
# messages, if nbdkit exits instead.
nbdkit_pid=
nbd_start() {
    local sock=$tmp/nbd.sock pidf=$tmp/nbd.pid i
    rm -f "$sock" "$pidf"
    nbdkit -f -U "$sock" -P "$pidf" --exit-with-parent "$PLUGIN" "$@" \
        2> "$tmp/nbdkit.err" &
    nbdkit_pid=$!
    for i in $(seq 600); do
        [ -s "$pidf" ] && break
        kill -0 "$nbdkit_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$pidf" ]; then
        cat "$tmp/nbdkit.err" >&2
        wait "$nbdkit_pid" 2>/dev/null
        nbdkit_pid=
        return 1
    fi
    uri="nbd+unix:///?socket=$sock"
}

# Stop the nbdkit nbd_start started (only that one, by its PID).
nbd_stop() {
    if [ -n "$nbdkit_pid" ]; then
        kill "$nbdkit_pid" 2>/dev/null
        wait "$nbdkit_pid" 2>/dev/null
        nbdkit_pid=
    fi
    return 0
}
cleanup_hooks+=(nbd_stop)

# Start-up must fail: nbdkit PARAM... exits non-zero before serving,
# without running the client; its messages are in $tmp/nbdkit.err.
nbd_expect_refusal() {
    local rc=0
    rm -f "$tmp/ran"
    nbdkit -U - "$PLUGIN" "$@" --run "touch '$tmp/ran'" \
        > "$tmp/nbdkit.err" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || { cat "$tmp/nbdkit.err"; fail "nbdkit $*: started"; }
    [ "$rc" -lt 128 ] || { cat "$tmp/nbdkit.err"; fail "nbdkit $*: crashed ($rc)"; }
    [ ! -e "$tmp/ran" ] || fail "nbdkit $*: served a client"
}

# The map of an image as runs "START LENGTH TYPE" (TYPE data, zero or
# hole), adjacent runs of one type merged.
#   map_nbd URI   qemu-img's map of the NBD export (block status)
#   map_ours IMG  vmconv's own map of IMG
map_nbd() {
    qemu_img map -f raw --output=json "$1" | python3 -c '
import json, sys
out = []
for e in json.load(sys.stdin):
    t = "hole" if not e["data"] else ("zero" if e["zero"] else "data")
    if out and out[-1][2] == t and out[-1][0] + out[-1][1] == e["start"]:
        out[-1][1] += e["length"]
    else:
        out.append([e["start"], e["length"], t])
for s, l, t in out:
    print(s, l, t)
'
}
map_ours() {
    "$VMCONV" disk map --json "$@" | python3 -c '
import json, sys
out = []
for e in json.load(sys.stdin):
    t = e["type"]
    if out and out[-1][2] == t and out[-1][0] + out[-1][1] == e["start"]:
        out[-1][1] += e["length"]
    else:
        out.append([e["start"], e["length"], t])
for s, l, t in out:
    print(s, l, t)
'
}

# check_map IMG [vmconv disk map options]: the export's block status
# (through qemu-img) must be vmconv's map of IMG, run for run, and show
# at least one run that is not data (so the extents are not all lost).
check_map() {
    local img=$1
    shift
    map_nbd "$uri" > "$tmp/map.nbd" || fail "$img: qemu-img map over NBD"
    map_ours "$@" "$img" > "$tmp/map.ours" || fail "$img: vmconv disk map"
    diff -u "$tmp/map.ours" "$tmp/map.nbd" ||
        fail "$img: NBD block status differs from vmconv's map"
    grep -q -v ' data$' "$tmp/map.nbd" ||
        { cat "$tmp/map.nbd"; fail "$img: no hole or zero run over NBD"; }
}

# A Python with libnbd's bindings (Debian's python3-libnbd), or
# nothing.
nbd_python() {
    local p
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import nbd' 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Writes through NBD must be refused by the server, and leave the
# export as it was.  With libnbd's Python bindings the requests are
# sent (strict mode off: libnbd would otherwise refuse them itself,
# seeing the export is read-only); qemu-io is tried too.
check_write_refused() {
    local before after py
    qemu_img convert -f raw "$uri" -O raw "$tmp/w1.raw" || fail "read before write"
    before=$(sha "$tmp/w1.raw")
    if qemu-io -f raw -c 'write -P 0x5a 0 65536' "$uri" > "$tmp/w.out" 2>&1; then
        cat "$tmp/w.out"; fail "qemu-io: a write through NBD succeeded"
    fi
    if py=$(nbd_python); then
        "$py" - "$uri" > "$tmp/w.out" 2>&1 <<'PY' ||
import nbd, sys
h = nbd.NBD()
h.set_strict_mode(0)
h.connect_uri(sys.argv[1])
assert h.is_read_only(), "the export is not read-only"
ok = True
for what, f in (("write", lambda: h.pwrite(b"Z" * 65536, 0)),
                ("write-zeroes", lambda: h.zero(65536, 0)),
                ("trim", lambda: h.trim(65536, 0))):
    try:
        f()
        print(what, "accepted")
        ok = False
    except nbd.Error as e:
        print(what, "refused:", e.string)
sys.exit(0 if ok else 1)
PY
            { cat "$tmp/w.out"; fail "the server accepted a write"; }
    else
        echo "note: no libnbd Python bindings (python3-libnbd): only" \
             "qemu-io's write was tried, which qemu refuses itself"
    fi
    qemu_img convert -f raw "$uri" -O raw "$tmp/w2.raw" || fail "read after write"
    after=$(sha "$tmp/w2.raw")
    [ "$before" = "$after" ] || fail "the export changed after a refused write"
    rm -f "$tmp/w1.raw" "$tmp/w2.raw"
}
