# SPDX-License-Identifier: LGPL-2.1-or-later
# A private libvirt daemon for the tests, started by libvirtd_start
# after functions.sh: libvirtd in system mode, as root, in a private
# mount and network namespace (its bridges and guests see no host
# network), whose /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/log/libvirt and /var/cache/libvirt are directories of the test's
# scratch area ($lv): nothing of the host's libvirt is read or changed.
# Its URI is $uri (socket $lv/sock/libvirt-sock, auth none); it and its
# virtlogd are stopped, and their guests destroyed, when the test
# exits.  The test is skipped (77) only when no daemon can be started.
# v ARGS...: virsh on that daemon.

libvirtd_start() {
# ASan intercepts the SunRPC xdr_* calls libvirt's client library makes
# (through libtirpc, loaded after ASan started): the interceptor finds
# no real function and calls NULL.
skip_under_sanitizer "libvirt's RPC client crashes under ASan's xdr" \
    "interceptors; the plain build runs this test"
requires libvirtd virtlogd virsh virt-xml-validate unshare python3 qemu-img
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: starting a system libvirt daemon needs root"
    exit 77
fi
command -v qemu-system-x86_64 >/dev/null ||
    { echo "SKIP: qemu-system-x86_64 is not installed"; exit 77; }

lv=$tmp/lv
mkdir -p "$lv"/{etc,run,lib,log,cache,sock}
uri="qemu+unix:///system?socket=$lv/sock/libvirt-sock"
cat > "$lv/etc/libvirtd.conf" <<EOF2
unix_sock_dir = "$lv/sock"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$lv/log/libvirtd.log"
EOF2
# QEMU as root, without cgroups, namespaces or a security driver (a
# container has none of them); its output through virtlogd.
cat > "$lv/etc/qemu.conf" <<EOF2
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "logd"
EOF2
cat > "$lv/etc/virtlogd.conf" <<EOF2
log_outputs = "3:file:$lv/log/virtlogd.log"
EOF2
cat > "$lv/start.sh" <<EOF2
set -e
mount -t tmpfs tmpfs /run
for d in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt \
         log:/var/log/libvirt cache:/var/cache/libvirt; do
    mkdir -p "\${d#*:}"
    mount --bind "$lv/\${d%%:*}" "\${d#*:}"
done
virtlogd --daemon --config "$lv/etc/virtlogd.conf" --pid-file "$lv/virtlogd.pid"
exec libvirtd --config "$lv/etc/libvirtd.conf" --pid-file "$lv/libvirtd.pid"
EOF2

stop_daemon() {
    local d pid f
    if [ -S "$lv/sock/libvirt-sock" ]; then
        for d in $(virsh -c "$uri" list --name 2>/dev/null); do
            virsh -c "$uri" destroy "$d" >/dev/null 2>&1
        done
    fi
    # A guest the daemon could not destroy: its pid file is ours.
    for f in "$lv"/run/qemu/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        grep -qa qemu-system "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
    done
    for f in "$lv/libvirtd.pid" "$lv/virtlogd.pid"; do
        if [ -f "$f" ]; then
            pid=$(cat "$f")
            kill "$pid" 2>/dev/null
            # Gone, or a zombie (libvirtd is this shell's child).
            for _ in $(seq 150); do
                case $(ps -o stat= -p "$pid" 2>/dev/null) in ''|Z*) break ;; esac
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null
        fi
    done
    [ -n "${unshare_pid:-}" ] && wait "$unshare_pid" 2>/dev/null
    return 0
}
cleanup_hooks+=(stop_daemon)

unshare --mount --net --propagation private sh "$lv/start.sh" > "$lv/daemon.out" 2>&1 &
unshare_pid=$!
up=no
for _ in $(seq 120); do
    if [ -S "$lv/sock/libvirt-sock" ] && virsh -c "$uri" uri >/dev/null 2>&1; then
        up=yes
        break
    fi
    kill -0 "$unshare_pid" 2>/dev/null || break
    sleep 0.5
done
if [ $up = no ]; then
    echo "SKIP: the test's libvirt daemon did not start:"
    cat "$lv/daemon.out"
    tail -n 20 "$lv/log/libvirtd.log" 2>/dev/null
    exit 77
fi
echo "libvirt daemon up at $uri"
}

v() { virsh -q -c "$uri" "$@"; }
