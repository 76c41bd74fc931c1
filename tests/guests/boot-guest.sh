#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots a test guest (tests/guests/build-guest.sh, converted or not)
# under QEMU and checks what it reports on its serial console.
#
#   tests/guests/boot-guest.sh [--uefi] --disk FILE --format FMT
#       --bus virtio|sata|lsi --nic virtio|e1000|e1000e --mac MAC
#       --expect-iface NAME --expect-addr ADDR [--timeout SECONDS]
#       [--log FILE]
#
# The disk is opened with snapshot=on: the image is never written.
# --bus: virtio (virtio-blk-pci), sata (an AHCI controller, ide-hd), lsi
# (lsi53c895a, scsi-hd).  --nic: the NIC model, with MAC, on QEMU user
# networking (restrict=on: the guest reaches nothing outside QEMU; its
# DHCP server still answers, so a dhcp guest gets 10.0.2.15).  --uefi:
# OVMF from Debian's ovmf package, with a private copy of its variables.
# KVM when a short probe shows it runs guests here, else TCG.  The serial
# port goes to --log FILE (default: a temporary file).
#
# Waits for the line the guest's vmconv-guest.service writes,
#   VMCONV-GUEST variant=NAME iface=IFACE addr=ADDR
# or the timeout (default 300 s), or QEMU's exit (-no-reboot: the guest
# powered off or rebooted), or a line that says the boot has failed for
# good (a kernel panic, the initramfs giving up on the root file system,
# systemd's emergency mode, GRUB not finding its disk).
# --expect-iface / --expect-addr '*' accept any value.
#
# Exit: 0 the line came with the expected iface and addr; 1 otherwise
# (the last 30 lines of the serial log are printed: a guest whose
# initramfs lacks the disk's driver ends with "Gave up waiting for root
# file system device" / "VFS: Unable to mount root"); 77 QEMU or OVMF
# is missing; 2 wrong arguments.  QEMU is killed on every exit path.
set -uo pipefail

usage() {
    echo "usage: $0 [--uefi] --disk FILE --format FMT --bus virtio|sata|lsi" \
         "--nic virtio|e1000|e1000e --mac MAC --expect-iface NAME" \
         "--expect-addr ADDR [--timeout SECONDS] [--log FILE]" >&2
    exit 2
}

uefi=no disk= format= bus= nic= mac= eiface= eaddr= timeout=300 logfile=
while [ $# -gt 0 ]; do
    case $1 in
        --uefi) uefi=yes ;;
        --disk) disk=${2-}; shift ;;
        --format) format=${2-}; shift ;;
        --bus) bus=${2-}; shift ;;
        --nic) nic=${2-}; shift ;;
        --mac) mac=${2-}; shift ;;
        --expect-iface) eiface=${2-}; shift ;;
        --expect-addr) eaddr=${2-}; shift ;;
        --timeout) timeout=${2-}; shift ;;
        --log) logfile=${2-}; shift ;;
        *) echo "boot-guest: unknown argument: $1" >&2; usage ;;
    esac
    shift || usage
done
[ -n "$disk" ] && [ -n "$format" ] && [ -n "$bus" ] && [ -n "$nic" ] &&
    [ -n "$mac" ] && [ -n "$eiface" ] && [ -n "$eaddr" ] || usage
case $timeout in ''|*[!0-9]*) usage ;; esac
[ -f "$disk" ] || { echo "boot-guest: no such disk: $disk" >&2; exit 2; }

qemu=${QEMU_SYSTEM_X86:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "boot-guest: skip: $qemu is missing (Debian package qemu-system-x86)" >&2
    exit 77
fi

case $bus in
    virtio) disk_dev=(-device virtio-blk-pci,drive=d0,bootindex=0) ;;
    sata) disk_dev=(-device ahci,id=ahci0 -device ide-hd,drive=d0,bus=ahci0.0,bootindex=0) ;;
    lsi) disk_dev=(-device lsi53c895a,id=scsi0 -device scsi-hd,drive=d0,bus=scsi0.0,bootindex=0) ;;
    *) usage ;;
esac
case $nic in
    virtio) nic_model=virtio-net-pci ;;
    e1000|e1000e) nic_model=$nic ;;
    *) usage ;;
esac

tmpd=$(mktemp -d "${TMPDIR:-/tmp}/boot-guest.XXXXXX")
qpid=
cleanup() {
    if [ -n "$qpid" ]; then
        kill "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
    fi
    rm -rf "$tmpd"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
[ -n "$logfile" ] || logfile=$tmpd/serial.log
: > "$logfile" || exit 2

fw=()
if [ "$uefi" = yes ]; then
    code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
    if [ ! -f "$code" ] || [ ! -f "$vars" ]; then
        echo "boot-guest: skip: OVMF is missing (Debian package ovmf)" >&2
        exit 77
    fi
    cp "$vars" "$tmpd/vars.fd"
    fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
        -drive "if=pflash,format=raw,unit=1,file=$tmpd/vars.fd")
fi

# KVM if it can run a guest here (kvm-works.sh: some nested hosts have a
# /dev/kvm on which QEMU aborts, or starts a vCPU that never runs).
accel=tcg
if QEMU=$qemu "$(dirname "$0")/kvm-works.sh"; then
    accel=kvm
fi

"$qemu" -no-user-config -nodefaults -display none -no-reboot \
    -machine "pc,accel=$accel" -m 1024 -smp 1 \
    "${fw[@]}" \
    -drive "file=$disk,format=$format,if=none,id=d0,snapshot=on" \
    "${disk_dev[@]}" \
    -netdev user,id=n0,restrict=on \
    -device "$nic_model,netdev=n0,mac=$mac" \
    -serial "file:$logfile" \
    > "$tmpd/qemu.out" 2>&1 &
qpid=$!

start=$SECONDS
result= why= cr=$'\r'
fatal='Kernel panic|Gave up waiting for root|Dropping to a shell|Entering emergency mode|You are in emergency mode|Could not boot\.|error: no such device|Failed to boot both default and fallback|No bootable device'
while :; do
    # A whole line only (the guest ends it with CR LF): not one that the
    # guest is still writing.
    if line=$(grep -a -m1 -E "VMCONV-GUEST variant=[^ ]+ iface=[^ ]+ addr=[^ ]+$cr" \
                  "$logfile" | tr -d '\r') && [ -n "$line" ]; then
        result=$line
        break
    fi
    if m=$(grep -a -m1 -E "$fatal" "$logfile") && [ -n "$m" ]; then
        # Let a panic finish printing its reason.
        sleep 2
        why="the boot failed: $(echo "$m" | tr -d '\r')"
        break
    fi
    if ! kill -0 "$qpid" 2>/dev/null; then
        wait "$qpid"
        why="QEMU exited ($?) without the marker"
        qpid=
        break
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
        why="no marker within $timeout s"
        break
    fi
    sleep 1
done
elapsed=$((SECONDS - start))

show_log() {
    echo "--- last 30 lines of the serial log ($logfile):"
    tail -n 30 "$logfile" | tr -d '\r'
    echo
    if [ -s "$tmpd/qemu.out" ]; then
        echo "--- QEMU said:"
        cat "$tmpd/qemu.out"
    fi
}

if [ -z "$result" ]; then
    echo "FAIL: $why (after $elapsed s, $accel)"
    show_log
    exit 1
fi
iface=$(echo "$result" | sed -n 's/.* iface=\([^ ]*\).*/\1/p')
addr=$(echo "$result" | sed -n 's/.* addr=\([^ ]*\).*/\1/p')
ok=yes
# shellcheck disable=SC2053  # the expected values are patterns on purpose
[ "$eiface" = '*' ] || [ "$iface" = "$eiface" ] || ok=no
[ "$eaddr" = '*' ] || [ "$addr" = "$eaddr" ] || ok=no
if [ $ok = yes ]; then
    echo "PASS: $result (after $elapsed s, $accel)"
    exit 0
fi
echo "FAIL: $result, expected iface=$eiface addr=$eaddr (after $elapsed s, $accel)"
show_log
exit 1
