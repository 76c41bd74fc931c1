#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make check-guests: the real Debian 12 guests of tests/guests/ (issue 16).
#
#   tests/guests/check-guests.sh [VARIANT...]     (default: all of them)
#
# For each variant: build it (build-guest.sh, cached), boot the
# unconverted image as it sat on VMware (its .vmx's bus, sata or lsi,
# an e1000 NIC with its MAC) and require the marker, any interface
# name and address (the NIC's name differs from VMware's there); then
# convert it to KVM and boot it on virtio-blk + virtio-net, requiring
# the interface and address of its .expect (convert_and_boot).  Last,
# the control: the unconverted modules-dep guest on virtio must NOT
# boot, or this test could not tell a fix from no fix.
# Needs root (the builder).  Exit 0 all passed, 1 a failure, 77 a tool
# is missing (the builder's or QEMU's reason is printed).  Times go to
# stdout; serial logs to $VMCONV_GUEST_LOGDIR (default a directory
# under the cache).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VMCONV_GUEST_CACHE:-/var/tmp/vmconv-guests}
logdir=${VMCONV_GUEST_LOGDIR:-$cache/logs}
mkdir -p "$logdir" || exit 1
all="bios-mbr uefi-gpt lvm fstab-sda modules-dep dracut vmtools ifupdown-static netplan"
variants=${*:-$all}
failed=0 passed=0

# The builder's and the booter's 77 is this test's 77.
run() {
    "$@"
    local rc=$?
    if [ $rc -eq 77 ]; then
        echo "SKIP: $1 cannot run here (reason above)"
        exit 77
    fi
    return $rc
}

result() { # NAME RC SECONDS
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok:   $1 ($3 s)"
    else
        failed=$((failed + 1))
        echo "FAIL: $1 ($3 s)"
    fi
}

# ---------------------------------------------------------------------
# vmconv: the build tree's, as make check-guests sets it, else ../../build.
top=$(cd "$here/../.." && pwd)
: "${VMCONV:=$top/build/vmconv}"
: "${VMCONV_PLUGIN_DIR:=$top/build/plugins/.libs-all}"
: "${VMCONV_GUESTFS_MODULE:=$top/build/.libs/vmconv-guestfs.so}"
: "${VMCONV_NBDKIT_PLUGIN:=$top/build/nbdkit/.libs/nbdkit-vmconv-plugin.so}"
export VMCONV_PLUGIN_DIR VMCONV_GUESTFS_MODULE VMCONV_NBDKIT_PLUGIN
# make's test environment turns the guest fix off for the other tests.
unset VMCONV_GUEST_FIX
[ -x "$VMCONV" ] || { echo "SKIP: vmconv is not built ($VMCONV)"; exit 77; }
out=$(mktemp -d /var/tmp/vmconv-check-guests.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT

# convert_and_boot VARIANT: convert the VMware VM in $dir (VARIANT.vmx)
# to KVM with vmconv, check the domain (virtio disk and NIC, the MAC
# kept) and that the source was not written, and boot the result on
# virtio-blk + virtio-net with boot-guest.sh, requiring $EXPECT_IFACE
# and $EXPECT_ADDR: the guest boots and keeps its network identity.
convert_and_boot() {
    local v=$1 o="$out/$v" before after disk
    before=$(sha256sum < "$dir/$v.vmdk")
    "$VMCONV" convert "$dir/$v.vmx" --to kvm -O "$o" \
        > "$logdir/$v-convert.log" 2>&1 || {
        tail -20 "$logdir/$v-convert.log"
        echo "$v: vmconv convert failed (log: $logdir/$v-convert.log)"
        return 1
    }
    grep -E "^Stages|guest fix" "$logdir/$v-convert.log"
    # dracut writes its image uncompressed, vmconv compresses it.
    if [ "$v" = dracut ] &&
       ! grep -q "compressed on the host" "$o"/*.report.json; then
        echo "$v: the report does not say the image was compressed on the host"
        return 1
    fi
    after=$(sha256sum < "$dir/$v.vmdk")
    [ "$before" = "$after" ] || { echo "$v: the source VMDK changed"; return 1; }
    grep -q 'bus="virtio"' "$o"/*.xml &&
        grep -q '<model type="virtio"/>' "$o"/*.xml &&
        grep -qi "<mac address=\"$MAC\"/>" "$o"/*.xml || {
        cat "$o"/*.xml
        echo "$v: the domain has no virtio disk and NIC with MAC $MAC"
        return 1
    }
    disk=$(ls "$o"/*.qcow2 | head -1)
    run "$here/boot-guest.sh" "${uefi[@]}" --disk "$disk" --format qcow2 \
        --bus virtio --nic virtio --mac "$MAC" \
        --expect-iface "$EXPECT_IFACE" --expect-addr "$EXPECT_ADDR" \
        --log "$logdir/$v-kvm.log"
    local rc=$?
    rm -rf "$o"
    return $rc
}
# ---------------------------------------------------------------------

for v in $variants; do
    s=$SECONDS
    dir=$("$here/build-guest.sh" "$v")
    rc=$?
    if [ $rc -eq 77 ]; then
        echo "SKIP: the guests cannot be built here (reason above)"
        exit 77
    fi
    result "build $v" $rc $((SECONDS - s))
    [ $rc -eq 0 ] || continue
    # shellcheck source=/dev/null
    . "$dir/$v.expect"
    uefi=()
    [ "$FIRMWARE" = efi ] && uefi=(--uefi)

    s=$SECONDS
    run "$here/boot-guest.sh" "${uefi[@]}" --disk "$dir/$v.vmdk" --format vmdk \
        --bus "$BUS" --nic e1000 --mac "$MAC" \
        --expect-iface '*' --expect-addr '*' --log "$logdir/$v-vmware.log"
    rc=$?
    [ $rc -eq 77 ] && exit 77
    result "boot $v unconverted, as on VMware ($BUS, e1000)" $rc $((SECONDS - s))

    s=$SECONDS
    convert_and_boot "$v"
    result "convert $v to KVM and boot it (virtio)" $? $((SECONDS - s))
done

# The other directions, on modules-dep (whose initramfs holds only what
# VMware's devices need): to Hyper-V, the converted disk's initramfs
# must hold hv_vmbus and hv_storvsc (read back by inspecting the
# output VHDX in a dry run); to VMware, its LSI driver, and the VMDK
# must boot on an emulated LSI controller with its interface kept.
# guest_drivers IMAGE DRIVER...: every bootable kernel of the guest on
# IMAGE has each DRIVER in its initramfs (or built in).
guest_drivers() {
    local img=$1
    shift
    # A dry run of a conversion of the bare disk inspects the guest on
    # it (read-only) and puts what it found into the plan.
    "$VMCONV" convert "$img" --from disk --to kvm -O "$out/dry" --dry-run \
        --json > "$out/inspect.json" 2> "$out/inspect.err" || {
        cat "$out/inspect.err"
        return 1
    }
    python3 - "$out/inspect.json" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
g = doc["guest-fix"]["inspection"]
oses = g.get("operating-systems") or []
assert oses, g.get("status")
ks = [k for k in oses[0]["kernels"] if k["bootable"]]
assert ks, oses[0]["kernels"]
for k in ks:
    for d in sys.argv[2:]:
        x = k["drivers"][d]
        assert x["initramfs"] or x["built-in"], (k["version"], d, x)
print("initramfs of %s: %s" % (", ".join(k["version"] for k in ks),
                               ", ".join(sys.argv[2:])))
PY
}
case " $variants " in *" modules-dep "*)
    dir=$("$here/build-guest.sh" modules-dep) || exit 1
    . "$dir/modules-dep.expect"
    uefi=()
    s=$SECONDS
    o=$out/hyperv
    if "$VMCONV" convert "$dir/modules-dep.vmx" --to hyperv -O "$o" \
            > "$logdir/modules-dep-hyperv.log" 2>&1; then
        guest_drivers "$(ls "$o"/*.vhdx | head -1)" hv_vmbus hv_storvsc
        rc=$?
    else
        tail -20 "$logdir/modules-dep-hyperv.log"
        rc=1
    fi
    result "convert modules-dep to Hyper-V: hv_vmbus, hv_storvsc in its initramfs" $rc $((SECONDS - s))
    rm -rf "$o"
    s=$SECONDS
    o=$out/vmware
    if "$VMCONV" convert "$dir/modules-dep.vmx" --to vmware -O "$o" \
            > "$logdir/modules-dep-vmware.log" 2>&1; then
        disk=$(ls "$o"/*.vmdk | grep -v -- '-flat\.vmdk$' | head -1)
        guest_drivers "$disk" mptspi &&
            run "$here/boot-guest.sh" --disk "$disk" --format vmdk \
                --bus lsi --nic e1000 --mac "$MAC" \
                --expect-iface "$EXPECT_IFACE" --expect-addr "$EXPECT_ADDR" \
                --log "$logdir/modules-dep-vmware-boot.log"
        rc=$?
    else
        tail -20 "$logdir/modules-dep-vmware.log"
        rc=1
    fi
    result "convert modules-dep to VMware: mptspi in its initramfs, boots on LSI" $rc $((SECONDS - s))
    rm -rf "$o"
    ;;
esac

# The control: MODULES=dep without virtio cannot boot on virtio-blk.
case " $variants " in *" modules-dep "*)
    dir=$("$here/build-guest.sh" modules-dep) || exit 1
    . "$dir/modules-dep.expect"
    s=$SECONDS
    run "$here/boot-guest.sh" --disk "$dir/modules-dep.vmdk" --format vmdk \
        --bus virtio --nic virtio --mac "$MAC" \
        --expect-iface '*' --expect-addr '*' --log "$logdir/control.log"
    rc=$?
    [ $rc -eq 77 ] && exit 77
    # It must fail for the right reason: no root file system.
    if [ $rc -eq 1 ] && grep -a -q -E 'Gave up waiting for root|Unable to mount root|ALERT!.* does not exist' \
            "$logdir/control.log"; then
        result "control: unconverted modules-dep on virtio does not boot" 0 $((SECONDS - s))
    else
        echo "the unconverted modules-dep guest booted on virtio, or failed for" \
             "another reason than its missing root device: this test cannot tell"
        result "control: unconverted modules-dep on virtio does not boot" 1 $((SECONDS - s))
    fi
    ;;
esac

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
