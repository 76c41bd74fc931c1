#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert: the command line is checked before anything is read
# or written, each mistake with one message and the usage exit status
# (2); a source nobody reads is bad input (1).  The source is never
# touched and nothing is written.
. "$srcdir/functions.sh"

sample=$top_srcdir/samples/example/demo.vmconv-example
before=$(fingerprint "$sample")
out=$tmp/out

# check_fail CODE MESSAGE CMD...: exit CODE and exactly MESSAGE on stderr.
check_fail() {
    local code=$1 msg=$2 rc=0
    shift 2
    "$@" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
    [ $rc = "$code" ] || { cat "$tmp/stderr"; fail "$*: exit $rc, expected $code"; }
    grep -qxF "vmconv: $msg" "$tmp/stderr" || { cat "$tmp/stderr"; fail "$*: expected '$msg'"; }
}

check_fail 2 "convert: no SOURCE given (see 'vmconv convert --help')" \
    "$VMCONV" convert --to kvm -O "$out"
check_fail 2 "convert: -O OUTDIR is required" \
    "$VMCONV" convert "$sample" --to kvm
check_fail 2 "--to xen: no such plugin ('vmconv plugins' lists them)" \
    "$VMCONV" convert "$sample" --to xen -O "$out"
check_fail 2 "--to physical: the physical plugin cannot write VMs" \
    "$VMCONV" convert "$sample" --to physical -O "$out"
check_fail 2 "--from nope: no such plugin ('vmconv plugins' lists them; 'disk' reads a bare disk image)" \
    "$VMCONV" convert "$sample" --from nope --to example -O "$out"
check_fail 2 "convert: -oa must be sparse or preallocated" \
    "$VMCONV" convert "$sample" -oa thick -O "$out"
check_fail 2 "convert: --jobs must be 1 to 16" \
    "$VMCONV" convert "$sample" --jobs 0 -O "$out"
check_fail 2 "convert: -io 'novalue': expected KEY=VALUE" \
    "$VMCONV" convert "$sample" -io novalue -O "$out"
check_fail 2 "convert: --firmware must be bios or uefi" \
    "$VMCONV" convert "$sample" --firmware coreboot -O "$out"
check_fail 2 "convert: --json and --machine-readable both use standard output: choose one" \
    "$VMCONV" convert "$sample" --json --machine-readable -O "$out"
check_fail 2 "-of qcow3: not a disk format vmconv writes" \
    "$VMCONV" convert "$sample" --to example -of qcow3 -O "$out"
check_fail 2 "--network ':x': expected SRC:DST or DST" \
    "$VMCONV" convert "$sample" --to example --network :x -O "$out"
check_fail 2 "--bridge 'default:br1': --network 'default:net' already maps default" \
    "$VMCONV" convert "$sample" --to example --network default:net \
    --bridge default:br1 -O "$out"
check_fail 2 "--name 'a/b': not usable as a file name (empty, a leading '.', a '/' or longer than 200 bytes)" \
    "$VMCONV" convert "$sample" --to example --name a/b -O "$out"
mkdir "$tmp/full" && touch "$tmp/full/x"
check_fail 2 "-O $tmp/full: the directory is not empty" \
    "$VMCONV" convert "$sample" --to example -O "$tmp/full"
check_fail 2 "-O $tmp/full/x: exists and is not a directory" \
    "$VMCONV" convert "$sample" --to example -O "$tmp/full/x"
check_fail 2 "-O $tmp/no/out: $tmp/no: No such file or directory" \
    "$VMCONV" convert "$sample" --to example -O "$tmp/no/out"

truncate -s 1M "$tmp/disk.img"
check_fail 2 "qcow2: unknown option 'colour' (-o help lists the options of this format)" \
    "$VMCONV" convert "$tmp/disk.img" --to example -o colour=red -O "$out"
check_fail 2 "$tmp/disk.img: a bare disk image takes no source parameters (vm=web): --vm, -ic, --allow-running and -io are for plugins" \
    "$VMCONV" convert "$tmp/disk.img" --to example --vm web -O "$out"

"$VMCONV" convert "$tmp/disk.img" --to example -of vmdk -o help -O "$out" |
    grep -q "^  subformat " || fail "convert -o help"

# Sources: missing, recognised but damaged, not a VM at all.
check_fail 1 "$tmp/missing.vmx: No such file or directory" \
    "$VMCONV" convert "$tmp/missing.vmx" --to example -O "$out"
printf '\x14\x20\x28\x01rest of a vmcx header' > "$tmp/vm.vmcx"
check_fail 1 "$tmp/vm.vmcx: offset 0x0: the file ends inside the header (and the second header at 0x1000: the file ends inside the header)" \
    "$VMCONV" convert "$tmp/vm.vmcx" --to example -O "$out"
printf 'just some text\n' > "$tmp/notes.txt"
check_fail 1 "$tmp/notes.txt: no plugin recognises this source, and it is not a disk image vmconv reads (a raw image must be a non-empty multiple of 512 bytes; --from disk reads any file as one)" \
    "$VMCONV" convert "$tmp/notes.txt" --to example -O "$out"

# Nothing written, the source untouched.
[ ! -e "$out" ] || fail "convert created $out"
[ -z "$(ls -A "$tmp/full" | grep -v '^x$')" ] || fail "convert wrote into $tmp/full"
ls -A "$tmp" | grep -q '^\..*\.vmconv-' && fail "a temporary directory was left"
[ "$(fingerprint "$sample")" = "$before" ] || fail "the sample was modified"
"$VMCONV" convert --help | grep -q '^Usage: vmconv convert' || fail "convert --help"
exit 0
