#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bash-completion/vmconv completes commands, options (read from the
# commands' own --help) and plugin names.
. "$srcdir/functions.sh"
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || { echo "SKIP: bash-completion is not installed ($bc)"; exit 77; }

# complete WORDS...: print the completions of the last word.
complete_words() {
    bash -c '
        . "$1"; . "$2"; shift 2
        PATH=$(dirname "$VMCONV"):$PATH
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _vmconv vmconv "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$top_srcdir/bash-completion/vmconv" "$@"
}

got=$(complete_words vmconv co)
[ "$got" = convert ] || fail "'vmconv co': got '$got'"
got=$(complete_words vmconv disk c)
[ "$(echo $got)" = "convert compare check create" ] || fail "'vmconv disk c': got '$got'"
complete_words vmconv disk convert --ver | grep -qx -- --verify ||
    fail "'vmconv disk convert --ver' does not offer --verify"
complete_words vmconv convert --t | grep -qx -- --to ||
    fail "'vmconv convert --t' does not offer --to"
if ! complete_words vmconv convert --to "" > "$tmp/to" || ! grep -qx kvm "$tmp/to"; then
    cat "$tmp/to"
    echo "vmconv plugins --json says:"
    "$VMCONV" plugins --json 2>&1 | head -40
    fail "'vmconv convert --to' does not offer kvm"
fi
got=$(complete_words vmconv disk convert -O q)
[ "$got" = qcow2 ] || fail "'vmconv disk convert -O q': got '$got'"
echo "ok: bash completion"
