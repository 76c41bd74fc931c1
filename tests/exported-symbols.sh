#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libvmconv exports exactly its documented API: the functions declared
# in include/vmconv/*.h, as listed in core/libvmconv.syms.  Fails when
# a public function is missing from the list or from the library, or
# when the library exports anything else (an internal vmc_* helper
# would become ABI by accident).
. "$srcdir/functions.sh"
requires nm python3

lib="$top_builddir/.libs/libvmconv.so"
[ -f "$lib" ] || { echo "SKIP: $lib not built (static build?)"; exit 77; }

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }' |
    grep -v '^_' | sort -u > "$tmp/exported"

python3 - "$top_srcdir" "$tmp" <<'PY'
import glob, re, sys
top, tmp = sys.argv[1], sys.argv[2]

declared = set()
for path in glob.glob(top + "/include/vmconv/*.h") + \
        glob.glob(top + "/include/vmconv/*.h.in"):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)          # comments
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", "", text, flags=re.M)  # cpp
    declared |= set(re.findall(r"\b(vmc_[a-z0-9_]+)\s*\(", text))

listed, block = [], None
for line in open(top + "/core/libvmconv.syms"):
    line = line.split("#")[0].strip()
    if line in ("global:", "local:"):
        block = line
    elif block == "global:" and line.endswith(";"):
        listed.append(line[:-1].strip())
exported = set(open(tmp + "/exported").read().split())

bad = 0
def report(what, names):
    global bad
    for n in sorted(names):
        print("FAIL: %s: %s" % (what, n))
        bad = 1
report("declared in include/ but not in core/libvmconv.syms", declared - set(listed))
report("in core/libvmconv.syms but declared in no public header", set(listed) - declared)
report("public but not exported by libvmconv.so", declared - exported)
report("exported by libvmconv.so but not public", exported - declared)
if listed != sorted(listed) or len(listed) != len(set(listed)):
    print("FAIL: core/libvmconv.syms is not sorted or has duplicates")
    bad = 1
if not bad:
    print("%d public functions, all exported, nothing else" % len(declared))
sys.exit(bad)
PY
