#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Exit 0 if QEMU can run guest code with KVM here, 1 if not (then the
# callers use TCG).  The same test as vmconv's guest module
# (core/guest/appliance.c): /dev/kvm must be usable, and SeaBIOS, run
# with KVM, must print its banner on the serial port within a few
# seconds.  On some nested hosts QEMU aborts setting up the vCPU; on
# others it starts and the vCPU never gets anywhere, so a QEMU that
# merely starts proves nothing.
qemu=${QEMU:-qemu-system-x86_64}
[ -r /dev/kvm ] && [ -w /dev/kvm ] || exit 1
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$qemu" -no-user-config -nodefaults -display none -machine accel=kvm \
    -cpu max,la57=off -m 64 -no-reboot -serial "file:$out" \
    > /dev/null 2>&1 &
pid=$!
for _ in $(seq 40); do
    if grep -q SeaBIOS "$out" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exit 1
