# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for vmconv's shell tests.  Source it first:
#   . "$srcdir/functions.sh"
# Environment (set by tests/Makefile.am): VMCONV, VMCONV_CORPUS,
# QEMU_IMG, srcdir, builddir, top_srcdir, top_builddir.

set -u
set -o pipefail

: "${VMCONV:=${top_builddir:-..}/vmconv}"
: "${VMCONV_CORPUS:=${top_srcdir:-..}/../shared/corpus}"

# Skip (exit 77) unless every named program exists.
requires() {
    local p
    for p in "$@"; do
        if ! command -v "$p" >/dev/null 2>&1; then
            echo "SKIP: $p is not installed"
            exit 77
        fi
    done
}

# skip_under_sanitizer WHY: skip (77) when vmconv was built with a
# sanitizer (configure saw -fsanitize in CFLAGS), saying WHY the test
# cannot run then; the plain build runs it.
skip_under_sanitizer() {
    if [ -n "${VMCONV_SANITIZER:-}" ]; then
        echo "SKIP: built with a sanitizer: $*"
        exit 77
    fi
}

# qemu-img is the oracle for disk formats.
requires_qemu_img() {
    if [ -n "${QEMU_IMG:-}" ] && [ "$QEMU_IMG" != no ]; then
        QEMU_IMG_BIN=$QEMU_IMG
    else
        requires qemu-img
        QEMU_IMG_BIN=$(command -v qemu-img)
    fi
}
qemu_img() { "$QEMU_IMG_BIN" "$@"; }

# Test files made by others live in two places: tests/data/corpus/
# (those whose license lets them travel with this LGPL project, some
# bzip2'd to keep the clone small) and the shared corpus beside the
# clone ($VMCONV_CORPUS: all of them, AGPL ones included).  A path is
# relative to the corpus root ("images/dfvfs/ext2.vmdk").
VMCONV_TEST_DATA=${top_srcdir:-..}/tests/data/corpus

# corpus_src REL: the stored file for REL (tests/data first, then the
# shared corpus), or nothing (status 1) if neither has it.
corpus_src() {
    local rel=$1
    if [ -f "$VMCONV_TEST_DATA/$rel" ]; then
        echo "$VMCONV_TEST_DATA/$rel"
    elif [ -f "$VMCONV_TEST_DATA/$rel.bz2" ]; then
        echo "$VMCONV_TEST_DATA/$rel.bz2"
    elif [ -f "$VMCONV_CORPUS/$rel" ]; then
        echo "$VMCONV_CORPUS/$rel"
    else
        return 1
    fi
}

# corpus_has REL...: true if every REL can be had.  When one cannot,
# say so (the line starts with "SKIP:", which `make check` collects
# into its summary of what was skipped and why).
corpus_has() {
    local rel
    for rel in "$@"; do
        if ! corpus_src "$rel" > /dev/null; then
            echo "SKIP: part of the test: $rel is only in the shared corpus" \
                 "(not redistributable here), not found at $VMCONV_CORPUS"
            return 1
        fi
    done
}

# Skip unless some corpus is present (tests/data/corpus always is in a
# clone; this guards a build from a tarball made without it).
requires_corpus() {
    if [ ! -d "$VMCONV_TEST_DATA/images" ] && [ ! -d "$VMCONV_CORPUS/images" ]; then
        echo "SKIP: no corpus: neither $VMCONV_TEST_DATA nor $VMCONV_CORPUS"
        exit 77
    fi
}

# A scratch directory removed on exit: $tmp.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmconv-test.XXXXXX")
cleanup_hooks=()
cleanup() {
    local f
    for f in "${cleanup_hooks[@]}"; do "$f" || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# corpus_get REL [DESTDIR]: copy a corpus file into DESTDIR (default
# $tmp) under its own name, decompressing .bz2/.gz; prints the path of
# the result.
corpus_get() {
    local rel=$1 dest=${2:-$tmp} src base
    src=$(corpus_src "$rel") ||
        { echo "corpus file missing: $rel (in neither $VMCONV_TEST_DATA" \
               "nor $VMCONV_CORPUS)" >&2; return 1; }
    base=$(basename "$rel")
    mkdir -p "$dest"
    case $src in
        *.bz2) base=${base%.bz2}; bzip2 -dc "$src" > "$dest/$base" ;;
        *.gz)  base=${base%.gz}; gzip -dc "$src" > "$dest/$base" ;;
        *)     cp "$src" "$dest/$base"; chmod u+w "$dest/$base" ;;
    esac
    echo "$dest/$base"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_fail DESCRIPTION CMD...: CMD must exit non-zero (not a crash:
# exit codes >= 128 are signals and count as failures of the test).
expect_fail() {
    local what=$1 rc=0
    shift
    "$@" > "$tmp/expect_fail.out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        cat "$tmp/expect_fail.out"
        fail "$what: expected failure, got success"
    fi
    if [ "$rc" -ge 128 ]; then
        cat "$tmp/expect_fail.out"
        fail "$what: crashed (exit $rc)"
    fi
}

# sha256 of a file.
sha() { sha256sum "$1" | cut -d' ' -f1; }

# mtime+size+hash fingerprint, to prove a source was not touched.
fingerprint() { stat -c '%s %Y' "$1"; sha "$1"; }

# Golden files: expected outputs kept under tests/expected/.
# compare_golden ACTUAL NAME: ACTUAL (a file) must equal
# $golden_dir/NAME (default tests/expected/NAME); on a difference the
# test fails showing "diff -u".  With VMCONV_TEST_REGENERATE=1 the
# expected file is (re)written from ACTUAL instead: read the diff
# (git diff tests/expected) before committing it.
: "${golden_dir:=${srcdir:-.}/expected}"
compare_golden() {
    local actual=$1 name=$2 expected
    expected=$golden_dir/$name
    if [ "${VMCONV_TEST_REGENERATE:-}" = 1 ]; then
        mkdir -p "$(dirname "$expected")"
        cp "$actual" "$expected"
        echo "regenerated $expected"
        return 0
    fi
    [ -f "$expected" ] ||
        fail "$expected does not exist (run with VMCONV_TEST_REGENERATE=1 to create it)"
    diff -u "$expected" "$actual" ||
        fail "$name: output differs from $expected (VMCONV_TEST_REGENERATE=1 rewrites it)"
}

# Replace the machine-dependent paths in FILE (the source and build
# trees and the shared corpus, as given and resolved, and the scratch
# directory) by @top_srcdir@, @top_builddir@, @corpus@ and @tmp@, so
# that golden files are the same everywhere.  The longest path is replaced first: the build tree
# is often inside the source tree, or top_srcdir is "BUILD/..".
golden_paths() {
    local f=$1 from to
    {
        printf '%s\t@top_srcdir@\n' "${top_srcdir:-..}" \
            "$(cd "${top_srcdir:-..}" && pwd -P)"
        printf '%s\t@top_builddir@\n' "${top_builddir:-..}" \
            "$(cd "${top_builddir:-..}" && pwd -P)"
        if [ -d "$VMCONV_CORPUS" ]; then
            printf '%s\t@corpus@\n' "$VMCONV_CORPUS" \
                "$(cd "$VMCONV_CORPUS" && pwd -P)"
        fi
        printf '%s\t@tmp@\n' "$tmp"
    } | awk -F '\t' '{ print length($1) "\t" $0 }' | sort -rn | cut -f2- |
    while IFS=$'\t' read -r from to; do
        sed -i "s|$from|$to|g" "$f"
    done
}
