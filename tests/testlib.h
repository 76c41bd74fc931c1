/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the Check unit tests. */
#ifndef VMCONV_TESTLIB_H
#define VMCONV_TESTLIB_H

/* Compare ACTUAL (text) with the golden file tests/expected/NAME (found
 * through $srcdir, "." if unset).  Returns 0 when they are equal; else
 * prints both names and the first differing line to stderr, writes
 * ACTUAL beside the build's tests as NAME with "/" replaced by "-" and
 * ".actual" appended (to diff by hand), and returns -1.  With
 * VMCONV_TEST_REGENERATE=1 it writes ACTUAL to the golden file instead
 * and returns 0.
 */
int test_compare_golden(const char *actual, const char *name);

#endif /* VMCONV_TESTLIB_H */
