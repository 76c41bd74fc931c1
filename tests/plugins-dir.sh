#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Where plugins come from: --plugin-dir over $VMCONV_PLUGIN_DIR, never
# the current directory; a bad file is reported, the others still load.
. "$srcdir/functions.sh"

all=$(realpath "$VMCONV_PLUGIN_DIR")
names() { "$VMCONV" "$@" plugins | awk 'NR > 1 && NF > 5 { print $1 }' | tr '\n' ' '; }

mkdir "$tmp/only-example" "$tmp/only-kvm"
ln -s "$all/vmconv-example.so" "$tmp/only-example/"
ln -s "$all/vmconv-kvm.so" "$tmp/only-kvm/"

# $VMCONV_PLUGIN_DIR is used...
[ "$(VMCONV_PLUGIN_DIR=$tmp/only-kvm names)" = "kvm " ] ||
    fail "VMCONV_PLUGIN_DIR not used"
# ... and --plugin-dir wins over it.
[ "$(VMCONV_PLUGIN_DIR=$tmp/only-kvm names --plugin-dir "$tmp/only-example")" = "example " ] ||
    fail "--plugin-dir does not take precedence over VMCONV_PLUGIN_DIR"
# --plugin-dir also works after the command.
VMCONV_PLUGIN_DIR=$tmp/only-kvm "$VMCONV" plugins --plugin-dir "$tmp/only-example" > "$tmp/out" ||
    fail "plugins --plugin-dir"
grep -q "^1 plugin loaded from $tmp/only-example\$" "$tmp/out" ||
    fail "plugins --plugin-dir DIR: not used"
VMCONV_PLUGIN_DIR=$tmp/only-kvm "$VMCONV" inspect --plugin-dir "$tmp/only-example" \
    "$top_srcdir/samples/example/demo.vmconv-example" > /dev/null ||
    fail "inspect --plugin-dir DIR: not used"
# A relative --plugin-dir is fine (explicit), reported absolute.
(cd "$tmp" && "$VMCONV" --plugin-dir only-example plugins) > "$tmp/out" ||
    fail "relative --plugin-dir"
grep -q "^1 plugin loaded from $(realpath "$tmp")/only-example\$" "$tmp/out" ||
    fail "relative --plugin-dir not made absolute"

# The current directory is never searched: a plugin there is ignored.
mkdir "$tmp/empty"
(cd "$tmp/only-example" && VMCONV_PLUGIN_DIR=$tmp/empty "$VMCONV" plugins) > "$tmp/out" ||
    fail "empty plugin dir"
grep -q "^0 plugins loaded from $tmp/empty\$" "$tmp/out" ||
    fail "plugin in the current directory was loaded"
# An empty VMCONV_PLUGIN_DIR does not mean "." either.
(cd "$tmp/only-example" && VMCONV_PLUGIN_DIR= "$VMCONV" plugins 2>&1) > "$tmp/out" || :
grep -q "$tmp/only-example" "$tmp/out" && fail "empty VMCONV_PLUGIN_DIR searched ."

# A missing directory is an error naming it.
expect_fail "missing dir" "$VMCONV" --plugin-dir "$tmp/missing" plugins
grep -q "^vmconv: plugin directory $tmp/missing: No such file or directory\$" \
    "$tmp/expect_fail.out" || fail "missing dir: wrong message"

# A bad file beside a good plugin: refused by name, the good one loads,
# exit status 1 (bad input) -- also with --quiet.
mkdir "$tmp/mixed"
ln -s "$all/vmconv-example.so" "$tmp/mixed/"
echo "not a plugin" > "$tmp/mixed/vmconv-notes.so"
rc=0
"$VMCONV" --plugin-dir "$tmp/mixed" plugins > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] || fail "bad plugin: exit $rc, expected 1"
grep -q "^vmconv: warning: $tmp/mixed/vmconv-notes.so: plugin refused: not an ELF shared object\$" \
    "$tmp/err" || { cat "$tmp/err"; fail "bad plugin: no refusal"; }
grep -q '^example ' "$tmp/out" || fail "bad plugin stopped the good one"
rc=0
"$VMCONV" -q --plugin-dir "$tmp/mixed" plugins > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] || fail "bad plugin -q: exit $rc"
grep -q "^vmconv: $tmp/mixed/vmconv-notes.so: plugin refused: not an ELF shared object\$" \
    "$tmp/err" || fail "bad plugin -q: refusal not shown"
# Other commands go on with a warning.
"$VMCONV" --plugin-dir "$tmp/mixed" inspect \
    "$top_srcdir/samples/example/demo.vmconv-example" > "$tmp/out" 2> "$tmp/err" ||
    fail "inspect with a bad plugin beside"
grep -q "plugin refused" "$tmp/err" || fail "inspect: no warning"
