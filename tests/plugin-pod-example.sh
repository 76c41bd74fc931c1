#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The complete example plugin of vmconv-plugin(3) (its EXAMPLE section)
# compiles as printed, with -Wall -Wextra -Werror, against the public
# headers, and works: a tinyhv VM is inspected, converted to KVM, and a
# VM converted to tinyhv names its converted disk.
. "$srcdir/functions.sh"
requires_qemu_img
pod=$top_srcdir/plugins/vmconv-plugin.pod
d=$tmp/tinyhv
mkdir -p "$d"
# The verbatim (indented) text of the EXAMPLE section up to "Build it",
# then from the C file's first comment on.
awk '/^=head1 EXAMPLE/ { on = 1; next }
     on && /^Build it/ { exit }
     on && /^ / { sub(/^ /, ""); print; next }
     on && /^$/ { print }' "$pod" > "$d/raw.c"
sed -n '/^\/\* tinyhv:/,$p' "$d/raw.c" > "$d/tinyhv.c"
grep -q 'VMC_REGISTER_PLUGIN(plugin)' "$d/tinyhv.c" ||
    { cat "$d/tinyhv.c"; fail "could not extract the example from $pod"; }
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -shared -fPIC \
    -fvisibility=hidden -I"$top_srcdir/include" -I"$top_builddir/include" \
    -o "$d/vmconv-tinyhv.so" "$d/tinyhv.c" \
    -L"$top_builddir/.libs" -lvmconv -Wl,-z,defs ||
    fail "the example of vmconv-plugin(3) does not compile"
export LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
qemu_img create -q -f qcow2 "$tmp/web.qcow2" 8M
printf 'tinyhv 1\nname=web01\nvcpus=2\nmemory=1G\ndisk=web.qcow2\n' > "$tmp/web.tinyhv"
"$VMCONV" --plugin-dir "$d" inspect "$tmp/web.tinyhv" > "$tmp/inspect" ||
    fail "inspect through the example plugin"
grep -q "disk 0: .*$tmp/web.qcow2" "$tmp/inspect" || { cat "$tmp/inspect"; fail "no disk"; }
"$VMCONV" --plugin-dir "$d" convert "$tmp/web.tinyhv" --to tinyhv -O "$tmp/out" \
    > "$tmp/conv" 2>&1 || { cat "$tmp/conv"; fail "convert to tinyhv"; }
grep -qxF "disk=$tmp/out/web01-disk1.qcow2" "$tmp/out/web01.tinyhv" ||
    { cat "$tmp/out/web01.tinyhv"; fail "the written VM does not name its converted disk"; }
grep -qxF "vcpus=2" "$tmp/out/web01.tinyhv" || fail "vcpus not written"
echo "ok: the vmconv-plugin(3) example compiles and converts"
