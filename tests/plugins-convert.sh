#!/bin/bash
# vmconv convert: arguments are checked, the source is read, --dry-run
# shows the job, and the command says plainly that the pipeline is not
# implemented yet -- it never pretends, and writes nothing.
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

check_fail 3 "convert: no SOURCE given (see 'vmconv convert --help')" \
    "$VMCONV" convert --to kvm -O "$out"
check_fail 3 "convert: --to is required (kvm, vmware or hyperv)" \
    "$VMCONV" convert "$sample" -O "$out"
check_fail 3 "convert: -O OUTDIR is required" \
    "$VMCONV" convert "$sample" --to kvm
check_fail 3 "convert: --to xen: no such plugin ('vmconv plugins' lists them)" \
    "$VMCONV" convert "$sample" --to xen -O "$out"
check_fail 3 "convert: --to physical: the physical plugin cannot write VMs" \
    "$VMCONV" convert "$sample" --to physical -O "$out"
mkdir "$tmp/full" && touch "$tmp/full/x"
check_fail 3 "convert: -O $tmp/full: the directory is not empty" \
    "$VMCONV" convert "$sample" --to kvm -O "$tmp/full"
check_fail 3 "convert: -O $tmp/full/x: exists and is not a directory" \
    "$VMCONV" convert "$sample" --to kvm -O "$tmp/full/x"
check_fail 3 "convert: -O $tmp/no/out: $tmp/no: No such file or directory" \
    "$VMCONV" convert "$sample" --to kvm -O "$tmp/no/out"
check_fail 2 "$tmp/missing.vmx: No such file or directory" \
    "$VMCONV" convert "$tmp/missing.vmx" --to kvm -O "$out"
printf 'config.version = "8"\nvirtualHW.version = "19"\n' > "$tmp/a.vmx"
check_fail 2 "convert: the conversion pipeline is not implemented yet" \
    "$VMCONV" convert "$tmp/a.vmx" --to kvm -O "$out"

# A readable source: the pipeline is not there yet.
check_fail 2 "convert: the conversion pipeline is not implemented yet" \
    "$VMCONV" convert "$sample" --to kvm -O "$out"
[ ! -s "$tmp/stdout" ] || fail "convert printed something without --dry-run"
check_fail 2 "convert: the conversion pipeline is not implemented yet" \
    "$VMCONV" convert "$sample" --to vmware -O "$out" --dry-run
grep -qxF "name:        demo" "$tmp/stdout" || fail "--dry-run: no VM shown"
grep -qxF "for vmware (the vmware plugin), into $out." "$tmp/stdout" ||
    fail "--dry-run: no target shown"

# Nothing written, the source untouched.
[ ! -e "$out" ] || fail "convert created $out"
[ -z "$(ls -A "$tmp/full" | grep -v '^x$')" ] || fail "convert wrote into $tmp/full"
[ "$(fingerprint "$sample")" = "$before" ] || fail "the sample was modified"
"$VMCONV" convert --help | grep -q '^Usage: vmconv convert' || fail "convert --help"
