#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A program that dlopens libvmconv with RTLD_LOCAL (as Python's ctypes
# does) loads the in-tree plugins: they are linked against libvmconv
# with -z defs and do not need its symbols to be global.
. "$srcdir/functions.sh"

lib=$top_builddir/.libs/libvmconv.so.0
[ -e "$lib" ] || fail "$lib not built"
out=$(LIBVMCONV=$lib SAMPLE=$top_srcdir/samples/example/demo.vmconv-example \
      "$builddir/test-plugin-rtld-local" 2>&1) || { echo "$out"; fail "plugins do not load under RTLD_LOCAL"; }
[ "$out" = demo ] || fail "unexpected output: $out"
exit 0
