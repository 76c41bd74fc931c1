#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# plugins/example/example.c builds outside the tree as
# vmconv-plugin(3) shows: the installed headers and common/cleanup.c (an include
# directory laid out as `make install` does, version.h included; no
# config.h, no core/), pkg-config's flags, and -z defs against
# libvmconv.  The result loads and reads the sample.
. "$srcdir/functions.sh"
requires pkg-config
cc=${CC:-cc}
requires "${cc%% *}"

# What `make install` puts under $includedir/vmconv.
mkdir -p "$tmp/prefix/include/vmconv" "$tmp/pkgconfig" "$tmp/src" "$tmp/plugins"
cp "$top_srcdir"/include/vmconv/*.h "$top_builddir/include/vmconv/version.h" \
    "$tmp/prefix/include/vmconv/"
# vmconv.pc as installed, pointing at the build tree's library.
sed -e "s|^prefix=.*|prefix=$tmp/prefix|" \
    -e "s|^exec_prefix=.*|exec_prefix=\${prefix}|" \
    -e "s|^libdir=.*|libdir=$top_builddir/.libs|" \
    -e "s|^includedir=.*|includedir=\${prefix}/include|" \
    "$top_builddir/vmconv.pc" > "$tmp/pkgconfig/vmconv.pc"
flags=$(PKG_CONFIG_PATH=$tmp/pkgconfig pkg-config --cflags --libs vmconv) ||
    fail "pkg-config vmconv"

# The file and common/'s cleanup helpers (copied, as a plugin author
# does; common/ is not installed), so nothing else of the tree is
# picked up.
cp "$top_srcdir/plugins/example/example.c" "$top_srcdir/common/cleanup.c" \
    "$top_srcdir/common/cleanup.h" "$tmp/src/"
# shellcheck disable=SC2086
$cc -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
    -fvisibility=hidden -I"$tmp/src" -o "$tmp/plugins/vmconv-example.so" \
    "$tmp/src/example.c" "$tmp/src/cleanup.c" $flags -Wl,-z,defs 2> "$tmp/cc.err" ||
    { cat "$tmp/cc.err"; fail "example.c does not build out of tree"; }

"$VMCONV" --plugin-dir "$tmp/plugins" plugins > "$tmp/list" 2>&1 ||
    { cat "$tmp/list"; fail "the out-of-tree example is refused"; }
grep -q '^example ' "$tmp/list" || { cat "$tmp/list"; fail "example not listed"; }
"$VMCONV" --plugin-dir "$tmp/plugins" inspect \
    "$top_srcdir/samples/example/demo.vmconv-example" > "$tmp/out" ||
    fail "inspect through the out-of-tree example"
grep -qxF "name:        demo" "$tmp/out" || { cat "$tmp/out"; fail "inspect: wrong VM"; }
exit 0
