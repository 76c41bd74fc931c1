#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv plugins: the five in-tree plugins, with the right capabilities,
# as a table and as JSON; each exports only vmc_plugin_init.
. "$srcdir/functions.sh"
requires python3

"$VMCONV" plugins --json > "$tmp/plugins.json" || fail "plugins --json failed"
# The in-tree plugins are built for this tree's model version.
model=$(sed -n 's/^#define VMC_VM_MODEL_VERSION \([0-9]*\).*/\1/p' \
        "$top_srcdir/include/vmconv/vm.h")
[ -n "$model" ] || fail "no VMC_VM_MODEL_VERSION in vm.h"
python3 - "$tmp/plugins.json" "$VMCONV_PLUGIN_DIR" "$model" <<'PY' || fail "plugins --json: wrong list"
import json, os, sys
plugins = json.load(open(sys.argv[1]))
plugin_dir = os.path.realpath(sys.argv[2])
expect = {                      # name: (read, write)
    "example": (True, True),
    "hyperv": (True, True),
    "kvm": (True, True),
    "physical": (True, False),
    "vmware": (True, True),
}
names = [p["name"] for p in plugins]
assert names == sorted(expect), names
for p in plugins:
    assert (p["read"], p["write"]) == expect[p["name"]], p
    assert p["abi-version"] == 1, p
    assert p["file"] == os.path.join(plugin_dir, "vmconv-%s.so" % p["name"]), p
    assert os.path.exists(p["file"]), p
    assert p["version"] and p["description"], p
    assert p["model-version"] == int(sys.argv[3]), p
    assert sorted(p) == ["abi-version", "caps", "config-help", "description",
                         "file", "finish", "model-version", "name", "read",
                         "version", "write"], p
PY

"$VMCONV" plugins > "$tmp/table" || fail "plugins failed"
head -1 "$tmp/table" | grep -q '^NAME  *VERSION  *ABI  *READ  *WRITE  *FILE  *DESCRIPTION$' ||
    fail "plugins: no table header"
grep -q '^physical  *[^ ]*  *1  *yes  *no  *vmconv-physical.so ' "$tmp/table" ||
    fail "plugins: wrong physical line"
grep -q '^example  *[^ ]*  *1  *yes  *yes  *vmconv-example.so ' "$tmp/table" ||
    fail "plugins: wrong example line"
grep -q "^5 plugins loaded from $(realpath "$VMCONV_PLUGIN_DIR")\$" "$tmp/table" ||
    fail "plugins: no directory line"

"$VMCONV" plugins --help | grep -q '^Usage: vmconv plugins' || fail "plugins --help"
expect_fail "plugins extra argument" "$VMCONV" plugins extra
expect_fail "plugins bad option" "$VMCONV" plugins --bogus

# The only exported symbol of a plugin is vmc_plugin_init.
if command -v nm >/dev/null 2>&1; then
    for so in "$VMCONV_PLUGIN_DIR"/vmconv-*.so; do
        syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
               grep -v '^_' || :)
        [ "$syms" = vmc_plugin_init ] || fail "$so exports: $syms"
    done
fi
