/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the Check unit tests (testlib.h). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testlib.h"

/* The whole of PATH, malloc'd, or NULL (errno set). */
static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, n;
    char chunk[4096];

    if (fp == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        char *nb = realloc(buf, len + n + 1);

        if (nb == NULL) {
            free(buf);
            fclose(fp);
            return NULL;
        }
        buf = nb;
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(fp);
    if (buf == NULL)
        buf = calloc(1, 1);
    else
        buf[len] = '\0';
    return buf;
}

static int
spew(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");

    if (fp == NULL)
        return -1;
    fputs(text, fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* mkdir -p of PATH's directory. */
static void
make_parents(const char *path)
{
    char *p = strdup(path), *s;

    if (p == NULL)
        return;
    for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    free(p);
}

/* Print the first line where A and B differ. */
static void
first_difference(const char *a, const char *b)
{
    unsigned line = 1;
    const char *la = a, *lb = b;

    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    fprintf(stderr, "first difference at line %u:\n-%.*s\n+%.*s\n", line,
            (int) strcspn(la, "\n"), la, (int) strcspn(lb, "\n"), lb);
}

int
test_compare_golden(const char *actual, const char *name)
{
    const char *srcdir = getenv("srcdir");
    const char *regen = getenv("VMCONV_TEST_REGENERATE");
    char path[4096], out[4096];
    char *expected;
    size_t i;
    int r;

    snprintf(path, sizeof path, "%s/expected/%s", srcdir ? srcdir : ".",
             name);
    if (regen && strcmp(regen, "1") == 0) {
        make_parents(path);
        if (spew(path, actual) == -1) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            return -1;
        }
        fprintf(stderr, "regenerated %s\n", path);
        return 0;
    }
    expected = slurp(path);
    if (expected == NULL) {
        fprintf(stderr, "%s: %s (run with VMCONV_TEST_REGENERATE=1 to "
                "create it)\n", path, strerror(errno));
        return -1;
    }
    r = strcmp(expected, actual) == 0 ? 0 : -1;
    if (r == -1) {
        snprintf(out, sizeof out, "%s.actual", name);
        for (i = 0; out[i]; i++)
            if (out[i] == '/')
                out[i] = '-';
        spew(out, actual);
        fprintf(stderr, "%s: output differs (actual output in %s; "
                "VMCONV_TEST_REGENERATE=1 rewrites the expected file)\n",
                path, out);
        first_difference(expected, actual);
    }
    free(expected);
    return r;
}
