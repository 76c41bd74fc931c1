#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv: install what the build needs (Debian 12), build, and then
#   ./build.sh demo    convert the bundled sample disk, as a user would
#   ./build.sh check   run the whole test suite: make check, the unit
#                      and shell tests again under ASan/UBSan, the
#                      threaded tests under TSan, make distcheck, and
#                      an install check
#   ./build.sh build   just install the packages and build
# The build happens in ./build (out of tree); nothing is installed on
# the system except Debian packages.  Run as root (or with sudo
# available) on Debian 12.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
mode=${1:-build}
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages: build tools, the libraries configure requires, and
# the real components the tests drive (qemu-img is the format oracle).
# linux-image-amd64: the kernel libguestfs builds its appliance from
# (guest inspection); cpio and zstd build the test guests' initramfs.
packages=(
    autoconf automake libtool pkg-config make gcc perl
    check libjson-c-dev zlib1g-dev libzstd-dev libdeflate-dev libxml2-dev
    libarchive-dev nettle-dev libvirt-dev libguestfs-dev
    qemu-utils bzip2 gzip python3 e2fsprogs fdisk g++ valgrind
    libnbd-dev bash-completion zip xz-utils
    nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 ovmf swtpm swtpm-tools
    linux-image-amd64 cpio zstd guestfish dosfstools mtools
    debootstrap uuid-runtime
)

say() { printf '\n=== %s\n' "$*"; }

install_packages() {
    local missing=() p sudo=
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    say "installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}

# configure_build DIR [configure args...]
configure_build() {
    local dir=$1
    shift
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" "$@")
}

build() {
    say "building in $top/build"
    (cd "$top" && autoreconf -fi >/dev/null 2>&1 || autoreconf -fi)
    if [ ! -f "$top/build/Makefile" ]; then
        local werror=
        [ "${CI:-}" = true ] && werror=--enable-werror
        configure_build "$top/build" --prefix="$top/build/install" $werror
    fi
    make -C "$top/build" -j"$jobs"
}

demo() {
    local v="$top/build/vmconv" out="$top/build/demo"
    local vmx="$top/samples/vmware/demo.vmx" disk="$top/samples/disks/demo.vmdk"
    export VMCONV_PLUGIN_DIR="$top/build/plugins/.libs-all"
    # Only this script's own scratch directory is ever removed.
    rm -rf "$out"
    mkdir -p "$out"
    say "vmconv inspect $vmx (a VMware Workstation VM)"
    "$v" inspect "$vmx"
    say "vmconv convert $vmx --to kvm -O $out/demo-kvm"
    "$v" convert "$vmx" --to kvm -O "$out/demo-kvm"
    say "virt-xml-validate $out/demo-kvm/demo.xml (libvirt's own schema)"
    virt-xml-validate "$out/demo-kvm/demo.xml" domain
    say "qemu-img check $out/demo-kvm/demo-disk1.qcow2 (qemu's own opinion of our output)"
    qemu-img check "$out/demo-kvm/demo-disk1.qcow2"
    say "vmconv disk convert -p -O vhdx $disk $out/demo.vhdx (a disk alone, as in pipelines)"
    "$v" disk convert -p -O vhdx "$disk" "$out/demo.vhdx"
    "$v" disk compare "$disk" "$out/demo.vhdx"
    say "done: the KVM VM is in $out/demo-kvm"
    echo "    define it:  virsh define $out/demo-kvm/demo.xml"
    echo "    start it:   virsh start demo   (where KVM is unusable, convert"
    echo "                again with --domain-type qemu)"
    echo "    report:     $out/demo-kvm/demo.report.json"
}

# The tests whose code runs on several threads at once: the copy
# engine, the writers and the readers shared by workers.
tsan_tests="test-copy-engine test-vpc-threads test-qcow2-write test-qcow2-compress
    test-qcow2-read test-vmdk-write test-vhdx-write test-vhdx-diff test-disk-job
    test-pipeline"

check() {
    say "make check"
    make -C "$top/build" -j"$jobs" check || {
        cat "$top/build/tests/test-suite.log" >&2; exit 1; }

    say "install check: the installed vmconv finds its installed plugins"
    make -C "$top/build" install >/dev/null
    env -u VMCONV_PLUGIN_DIR "$top/build/install/bin/vmconv" plugins --json |
        python3 -c '
import json, sys
names = sorted(p["name"] for p in json.load(sys.stdin))
want = ["example", "hyperv", "kvm", "physical", "vmware"]
print("installed plugins:", " ".join(names))
sys.exit(0 if names == want else "expected " + " ".join(want))'
    # The man pages and the bash completion are installed too.
    local f missing=
    for f in man1/vmconv.1 man1/vmconv-disk.1 man3/vmconv-plugin.3 \
             man5/vmconv-vm-json.5 man5/vmconv-convert-json.5 \
             man1/vmconv-kvm-plugin.1 man1/vmconv-vmware-plugin.1 \
             man1/vmconv-hyperv-plugin.1; do
        [ -s "$top/build/install/share/man/$f" ] || missing+=" $f"
    done
    [ -s "$top/build/install/share/bash-completion/completions/vmconv" ] ||
        missing+=" bash-completion/completions/vmconv"
    [ -s "$top/build/install/lib/vmconv/vmconv-guestfs.so" ] ||
        missing+=" lib/vmconv/vmconv-guestfs.so"
    [ -z "$missing" ] || { echo "not installed:$missing" >&2; exit 1; }
    echo "man pages, bash completion and the libguestfs module installed"

    say "make check under AddressSanitizer and UndefinedBehaviorSanitizer"
    if [ ! -f "$top/build-asan/Makefile" ]; then
        configure_build "$top/build-asan" --enable-werror \
            CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
            LDFLAGS="-fsanitize=address,undefined" >/dev/null
    fi
    make -C "$top/build-asan" -j"$jobs" >/dev/null
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make -C "$top/build-asan" -j"$jobs" check || {
            cat "$top/build-asan/tests/test-suite.log" >&2; exit 1; }

    say "the threaded tests under ThreadSanitizer"
    if [ ! -f "$top/build-tsan/Makefile" ]; then
        configure_build "$top/build-tsan" --enable-werror \
            CFLAGS="-g -O1 -fsanitize=thread" LDFLAGS="-fsanitize=thread" >/dev/null
    fi
    make -C "$top/build-tsan" -j"$jobs" >/dev/null
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        make -C "$top/build-tsan/tests" -j"$jobs" check TESTS="$tsan_tests" || {
            cat "$top/build-tsan/tests/test-suite.log" >&2; exit 1; }

    say "make distcheck"
    make -C "$top/build" -j"$jobs" distcheck >/dev/null || {
        echo "make distcheck failed; rerun it in $top/build to see why" >&2
        exit 1; }
    echo "distcheck passed"

    # One plain closing line for whoever reads the end of the log.
    summary "$top/build/tests/test-suite.log" "$top/build-asan/tests/test-suite.log" \
        "$top/build-tsan/tests/test-suite.log"
}

# summary LOG...: add up the automake harness counts of the logs and
# print "N passed, N failed, N skipped".
summary() {
    local pass=0 fail=0 skip=0 n log
    for log in "$@"; do
        n=$(sed -n 's/^# PASS: *//p' "$log"); pass=$((pass + ${n:-0}))
        n=$(sed -n 's/^# FAIL: *//p' "$log"); fail=$((fail + ${n:-0}))
        n=$(sed -n 's/^# ERROR: *//p' "$log"); fail=$((fail + ${n:-0}))
        n=$(sed -n 's/^# XPASS: *//p' "$log"); fail=$((fail + ${n:-0}))
        n=$(sed -n 's/^# SKIP: *//p' "$log"); skip=$((skip + ${n:-0}))
    done
    echo
    echo "$pass passed, $fail failed, $skip skipped"
}

install_packages
build
case $mode in
    build) ;;
    demo) demo ;;
    check) check ;;
    *) echo "usage: $0 [build|demo|check]" >&2; exit 2 ;;
esac
