#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Golden files of the VM model's outputs: vmconv inspect (text and
# --json) of the example plugin's sample, and the human print and JSON
# of rich models read from JSON (tests/data/vm/), which no plugin reads
# yet.  Also checks compare_golden itself.  VMCONV_TEST_REGENERATE=1
# rewrites tests/expected/ instead of comparing.
. "$srcdir/functions.sh"

# compare_golden: equal passes, different fails, regenerate writes.
selftest() (
    golden_dir=$tmp/golden
    unset VMCONV_TEST_REGENERATE
    printf 'a\n' > "$tmp/a"
    printf 'b\n' > "$tmp/b"
    (compare_golden "$tmp/a" self/a.txt) > "$tmp/self.out" 2>&1 &&
        fail "compare_golden: passed without an expected file"
    grep -q "does not exist (run with VMCONV_TEST_REGENERATE=1" "$tmp/self.out" ||
        fail "compare_golden: no hint for a missing file"
    VMCONV_TEST_REGENERATE=1 compare_golden "$tmp/a" self/a.txt > /dev/null
    cmp -s "$tmp/a" "$golden_dir/self/a.txt" || fail "regenerate did not write"
    compare_golden "$tmp/a" self/a.txt || fail "compare_golden: equal files"
    (compare_golden "$tmp/b" self/a.txt) > "$tmp/self.out" 2>&1 &&
        fail "compare_golden: passed different files"
    grep -qx -- '-a' "$tmp/self.out" || fail "compare_golden: no diff shown"
)
selftest

sample=$top_srcdir/samples/example/demo.vmconv-example
"$VMCONV" inspect --json "$sample" > "$tmp/demo.json" || fail "inspect --json"
golden_paths "$tmp/demo.json"
compare_golden "$tmp/demo.json" inspect/demo.json
"$VMCONV" inspect "$sample" > "$tmp/demo.txt" || fail "inspect"
golden_paths "$tmp/demo.txt"
compare_golden "$tmp/demo.txt" inspect/demo.txt

for m in rich v1; do
    "$builddir/vm-print-json" "$srcdir/data/vm/$m.json" > "$tmp/$m.txt" ||
        fail "vm-print-json $m"
    golden_paths "$tmp/$m.txt"
    compare_golden "$tmp/$m.txt" vm-print/$m.txt
    "$builddir/vm-print-json" --json "$srcdir/data/vm/$m.json" > "$tmp/$m.json" ||
        fail "vm-print-json --json $m"
    golden_paths "$tmp/$m.json"
    compare_golden "$tmp/$m.json" vm-print/$m.json
done
