#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The frozen-ABI test under valgrind: the version 1 plugins of
# tests/old-plugins/v1 loaded and driven by today's libvmconv
# (test-plugin-old), and `vmconv inspect` through one of them, without
# a single invalid read or write.  Skipped when valgrind is missing.
. "$srcdir/functions.sh"
requires valgrind
skip_under_sanitizer "valgrind cannot run a program built with one"
# valgrind cannot run a program built with AddressSanitizer.
if "$top_builddir/libtool" --mode=execute ldd "$builddir/test-plugin-old" 2>/dev/null |
        grep -q 'libasan\|libtsan'; then
    echo "SKIP: built with a sanitizer; valgrind cannot run it"
    exit 77
fi

vg() {
    "$top_builddir/libtool" --mode=execute valgrind --quiet \
        --error-exitcode=99 --leak-check=no "$@"
}

# Check's fork mode would hide the tests from valgrind's parent.
CK_FORK=no vg "$builddir/test-plugin-old" > "$tmp/unit.out" 2>&1 || {
    cat "$tmp/unit.out"
    fail "test-plugin-old under valgrind"
}

mkdir "$tmp/plugins"
ln -s "$(realpath "$builddir/.libs/vmconv-old-v1-guard.so")" "$tmp/plugins/"
printf 'old-v1\nname=web\nvcpus=4\ndisk=/vm/web.qcow2\n' > "$tmp/web.old"
vg "$VMCONV" --plugin-dir "$tmp/plugins" inspect --json "$tmp/web.old" \
    > "$tmp/vm.json" 2> "$tmp/inspect.err" || {
    cat "$tmp/inspect.err"
    fail "vmconv inspect through the old plugin under valgrind"
}
grep -q '"vcpus": 4' "$tmp/vm.json" || { cat "$tmp/vm.json"; fail "inspect: wrong VM"; }
exit 0
