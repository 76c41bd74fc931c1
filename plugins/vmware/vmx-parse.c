/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: the .vmx / .vmsd dictionary parser.
 *
 * Syntax (../shared/specs/vmx.md section 1): one `key = "value"` per
 * line, keys case-insensitive, `#` comments and blank lines, CRLF, an
 * optional byte order mark, `|XX` escapes inside values, and the
 * charset named by `.encoding` (UTF-8 when absent).  A key written
 * twice keeps its last value.  A few writers leave values unquoted;
 * those are accepted up to the first blank.
 *
 * Everything is hostile: a line that is not that syntax, a control
 * character or NUL, an invalid escape, text that is not in its
 * declared charset, an overlong line or file is one error naming the
 * file and the line.  Memory is bounded by VMX_MAX_FILE (the text,
 * its UTF-8 conversion and the entries).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "vmx-parse.h"

/* vmc_error, unless H is NULL (a quiet pre-scan). */
#define VMX_ERR(h, ...)                                                 \
    do {                                                                \
        if (h)                                                          \
            vmc_error(h, __VA_ARGS__);                                  \
    } while (0)

/* The most entries one file may hold (VMware writes a few hundred). */
#define VMX_MAX_ENTRIES 65536

void
vmx_dict_free(struct vmx_dict *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nr; i++) {
        free(d->e[i].key);
        free(d->e[i].name);
        free(d->e[i].value);
    }
    free(d->e);
    free(d->name);
    free(d->encoding);
    free(d);
}

static int
vmx_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the valid UTF-8 sequence at S (LEN bytes left), or 0 if
 * it is not one (overlong forms, surrogates and values past U+10FFFF
 * are not).
 */
static size_t
vmx_utf8_seq(const unsigned char *s, size_t len)
{
    uint32_t c;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, c = s[0] & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return 0;
    return n;
}

static bool
vmx_valid_utf8(const char *s, size_t len)
{
    size_t i = 0, n;

    while (i < len) {
        n = vmx_utf8_seq((const unsigned char *) s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* One parsed line. */
struct vmx_line {
    const char *key;
    size_t key_len;
    const char *val;             /* raw, before unescaping */
    size_t val_len;
};

/* What vmx_split_line found. */
enum vmx_line_kind {
    VMX_LINE_EMPTY,              /* blank or comment */
    VMX_LINE_ENTRY,
    VMX_LINE_ERROR,              /* error set on H */
};

/* Split the line P (LEN bytes, no newline) into key and raw value.
 * Errors name NAME and LINENO.
 */
static enum vmx_line_kind
vmx_split_line(struct vmc_handle *h, const char *name, unsigned lineno,
               const char *p, size_t len, struct vmx_line *out)
{
    size_t i = 0, j;
    const unsigned char *u = (const unsigned char *) p;

    for (j = 0; j < len; j++) {
        if (u[j] == 0) {
            VMX_ERR(h, "%s: line %u: NUL byte (not a .vmx text file)",
                      name, lineno);
            return VMX_LINE_ERROR;
        }
        if ((u[j] < 0x20 && u[j] != '\t') || u[j] == 0x7f) {
            VMX_ERR(h, "%s: line %u: control character 0x%02x (not a "
                      ".vmx text line)", name, lineno, u[j]);
            return VMX_LINE_ERROR;
        }
    }
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == len || p[i] == '#')
        return VMX_LINE_EMPTY;
    out->key = p + i;
    while (i < len && u[i] > 0x20 && u[i] < 0x7f && p[i] != '=' &&
           p[i] != '"' && p[i] != '#')
        i++;
    out->key_len = (size_t) (p + i - out->key);
    j = i;
    while (j < len && (p[j] == ' ' || p[j] == '\t'))
        j++;
    if (out->key_len == 0 || j == len || p[j] != '=') {
        VMX_ERR(h, "%s: line %u: expected 'key = \"value\"'", name,
                  lineno);
        return VMX_LINE_ERROR;
    }
    j++;
    while (j < len && (p[j] == ' ' || p[j] == '\t'))
        j++;
    if (j < len && p[j] == '"') {
        const char *end = memchr(p + j + 1, '"', len - j - 1);

        if (end == NULL) {
            VMX_ERR(h, "%s: line %u: %.*s: the value has no closing "
                      "quote", name, lineno, (int) out->key_len, out->key);
            return VMX_LINE_ERROR;
        }
        out->val = p + j + 1;
        out->val_len = (size_t) (end - out->val);
        j = (size_t) (end - p) + 1;
    } else {
        out->val = p + j;
        while (j < len && p[j] != ' ' && p[j] != '\t' && p[j] != '#' &&
               p[j] != '"')
            j++;
        out->val_len = (size_t) (p + j - out->val);
    }
    while (j < len && (p[j] == ' ' || p[j] == '\t'))
        j++;
    if (j < len && p[j] != '#') {
        VMX_ERR(h, "%s: line %u: %.*s: unexpected text after the value",
                  name, lineno, (int) out->key_len, out->key);
        return VMX_LINE_ERROR;
    }
    return VMX_LINE_ENTRY;
}

/* The next line of BUF from *POS: sets *LINE and *LEN (without the
 * newline and a CR before it) and advances *POS.  False at the end.
 */
static bool
vmx_next_line(const char *buf, size_t len, size_t *pos, const char **line,
              size_t *line_len)
{
    const char *nl;
    size_t n;

    if (*pos >= len)
        return false;
    *line = buf + *pos;
    nl = memchr(*line, '\n', len - *pos);
    n = nl ? (size_t) (nl - *line) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && (*line)[n - 1] == '\r')
        n--;
    *line_len = n;
    return true;
}

/* The .encoding BUF declares, or NULL (malloc'd; *LINENO its line).
 * Lines that do not parse are skipped here: the real pass reports
 * them.
 */
static char *
vmx_find_encoding(const char *buf, size_t len, unsigned *lineno)
{
    size_t pos = 0, n;
    const char *line;
    unsigned no = 0;
    char *enc = NULL;

    while (vmx_next_line(buf, len, &pos, &line, &n)) {
        struct vmx_line l;
        size_t i;

        no++;
        if (n > VMX_MAX_LINE ||
            vmx_split_line(NULL, "", no, line, n, &l) != VMX_LINE_ENTRY)
            continue;
        if (l.key_len != 9 || strncasecmp(l.key, ".encoding", 9) != 0)
            continue;
        free(enc);
        enc = strndup(l.val, l.val_len);
        if (enc == NULL)
            return NULL;
        for (i = 0; enc[i]; i++)
            if ((unsigned char) enc[i] >= 0x80 || enc[i] == '|')
                enc[i] = '?';
        *lineno = no;
    }
    return enc;
}

static bool
vmx_is_utf8_name(const char *enc)
{
    return strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

/* The line of BUF holding byte OFF. */
static unsigned
vmx_line_of(const char *buf, size_t off)
{
    unsigned no = 1;
    size_t i;

    for (i = 0; i < off; i++)
        if (buf[i] == '\n')
            no++;
    return no;
}

/* Convert the LEN bytes of BUF from ENC to UTF-8: a malloc'd text
 * (*OUT_LEN bytes, NUL-terminated).  Errors name NAME and the line of
 * the first byte that is not ENC.
 */
static char *
vmx_iconv(struct vmc_handle *h, const char *name, const char *buf,
          size_t len, const char *enc, unsigned enc_line, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    size_t cap = len * 2 + 16, used = 0;
    char *in = (char *) buf, *out, *res;
    size_t in_left = len;

    if (cd == (iconv_t) -1) {
        vmc_error(h, "%s: line %u: .encoding: '%s' is not a character set "
                  "this system can convert", name, enc_line, enc);
        return NULL;
    }
    res = malloc(cap);
    if (res == NULL) {
        vmc_error(h, "%s: out of memory", name);
        iconv_close(cd);
        return NULL;
    }
    while (in_left > 0) {
        size_t out_left = cap - used - 1;

        out = res + used;
        if (iconv(cd, &in, &in_left, &out, &out_left) != (size_t) -1)
            used = (size_t) (out - res);
        else if (errno == E2BIG) {
            char *bigger;

            used = (size_t) (out - res);
            /* UTF-8 of any charset is at most 4 bytes per input byte. */
            if (cap >= len * 4 + 16)
                goto bad;
            cap = len * 4 + 16;
            bigger = realloc(res, cap);
            if (bigger == NULL) {
                vmc_error(h, "%s: out of memory", name);
                goto fail;
            }
            res = bigger;
        } else
            goto bad;
    }
    iconv_close(cd);
    res[used] = '\0';
    *out_len = used;
    return res;

 bad:
    vmc_error(h, "%s: line %u: text that is not %s (the .encoding of "
              "line %u)", name, vmx_line_of(buf, (size_t) (in - buf)), enc,
              enc_line);
 fail:
    free(res);
    iconv_close(cd);
    return NULL;
}

/* Unescape the raw value L of line LINENO into a malloc'd string.
 * Returns NULL with an error for an invalid escape or a NUL.
 */
static char *
vmx_unescape(struct vmc_handle *h, const char *name, unsigned lineno,
             const struct vmx_line *l)
{
    char *v = malloc(l->val_len + 1);
    size_t i, n = 0;

    if (v == NULL) {
        vmc_error(h, "%s: out of memory", name);
        return NULL;
    }
    for (i = 0; i < l->val_len; i++) {
        int hi, lo;

        if (l->val[i] != '|') {
            v[n++] = l->val[i];
            continue;
        }
        hi = i + 2 < l->val_len ? vmx_hex((unsigned char) l->val[i + 1])
                                : -1;
        lo = hi >= 0 ? vmx_hex((unsigned char) l->val[i + 2]) : -1;
        if (lo < 0) {
            vmc_error(h, "%s: line %u: %.*s: '|' is not followed by two "
                      "hex digits (VMware writes '|' as |7C)", name, lineno,
                      (int) l->key_len, l->key);
            free(v);
            return NULL;
        }
        if (hi == 0 && lo == 0) {
            vmc_error(h, "%s: line %u: %.*s: the escape |00 (a NUL byte) "
                      "is not allowed", name, lineno, (int) l->key_len,
                      l->key);
            free(v);
            return NULL;
        }
        v[n++] = (char) (hi * 16 + lo);
        i += 2;
    }
    v[n] = '\0';
    return v;
}

static int
vmx_cmp_entry(const void *a, const void *b)
{
    const struct vmx_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort D's entries by key and keep the last of each duplicate. */
static void
vmx_sort_dedup(struct vmx_dict *d)
{
    size_t i, n = 0;

    if (d->nr == 0)
        return;
    qsort(d->e, d->nr, sizeof d->e[0], vmx_cmp_entry);
    for (i = 0; i < d->nr; i++) {
        if (i + 1 < d->nr && strcmp(d->e[i].key, d->e[i + 1].key) == 0) {
            free(d->e[i].key);
            free(d->e[i].name);
            free(d->e[i].value);
            continue;
        }
        d->e[n++] = d->e[i];
    }
    d->nr = n;
}

/* Parse the UTF-8 (or, with RAW8, any ASCII-compatible) TEXT into D.
 * Returns 0; 1 if a value is not UTF-8 and CAN_GUESS (nothing is set,
 * the caller retries as windows-1252); -1 with an error.
 */
static int
vmx_parse_text(struct vmc_handle *h, struct vmx_dict *d, const char *text,
               size_t len, bool can_guess)
{
    size_t pos = 0, n, cap = 0;
    const char *line;
    unsigned no = 0;

    while (vmx_next_line(text, len, &pos, &line, &n)) {
        struct vmx_line l;
        struct vmx_entry *e;
        size_t i;

        no++;
        if (n > VMX_MAX_LINE) {
            vmc_error(h, "%s: line %u: longer than %u bytes (not a .vmx "
                      "line)", d->name, no, VMX_MAX_LINE);
            return -1;
        }
        switch (vmx_split_line(h, d->name, no, line, n, &l)) {
        case VMX_LINE_EMPTY:
            continue;
        case VMX_LINE_ERROR:
            return -1;
        case VMX_LINE_ENTRY:
            break;
        }
        if (!vmx_valid_utf8(l.val, l.val_len)) {
            if (can_guess)
                return 1;
            vmc_error(h, "%s: line %u: %.*s: the value is not valid %s",
                      d->name, no, (int) l.key_len, l.key,
                      d->encoding && !d->encoding_guessed
                      ? "text in its .encoding" : "UTF-8");
            return -1;
        }
        if (d->nr == VMX_MAX_ENTRIES) {
            vmc_error(h, "%s: line %u: more than %u keys (not a .vmx)",
                      d->name, no, VMX_MAX_ENTRIES);
            return -1;
        }
        if (d->nr == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct vmx_entry *ne = realloc(d->e, ncap * sizeof *ne);

            if (ne == NULL) {
                vmc_error(h, "%s: out of memory", d->name);
                return -1;
            }
            d->e = ne;
            cap = ncap;
        }
        e = &d->e[d->nr];
        e->line = no;
        e->key = strndup(l.key, l.key_len);
        e->name = strndup(l.key, l.key_len);
        if (e->key == NULL || e->name == NULL) {
            free(e->key);
            free(e->name);
            vmc_error(h, "%s: out of memory", d->name);
            return -1;
        }
        for (i = 0; e->key[i]; i++)
            if (e->key[i] >= 'A' && e->key[i] <= 'Z')
                e->key[i] = (char) (e->key[i] - 'A' + 'a');
        e->value = vmx_unescape(h, d->name, no, &l);
        if (e->value == NULL) {
            free(e->key);
            free(e->name);
            return -1;
        }
        d->nr++;
        /* An escape may spell bytes that are not UTF-8. */
        if (!vmx_valid_utf8(e->value, strlen(e->value))) {
            vmc_error(h, "%s: line %u: %s: an escape in the value makes "
                      "it invalid UTF-8", d->name, no, e->name);
            return -1;
        }
    }
    vmx_sort_dedup(d);
    return 0;
}

static void
vmx_dict_clear(struct vmx_dict *d)
{
    size_t i;

    for (i = 0; i < d->nr; i++) {
        free(d->e[i].key);
        free(d->e[i].name);
        free(d->e[i].value);
    }
    d->nr = 0;
}

struct vmx_dict *
vmx_parse_buffer(struct vmc_handle *h, const char *buf, size_t len,
                 const char *name)
{
    struct vmx_dict *d = calloc(1, sizeof *d);
    char *conv = NULL;
    const char *text = buf;
    size_t text_len = len;
    unsigned enc_line = 0;
    bool forced_utf8 = false;
    int r;

    if (d == NULL || (d->name = strdup(name)) == NULL) {
        vmc_error(h, "%s: out of memory", name);
        goto fail;
    }
    if (len > VMX_MAX_FILE) {
        vmc_error(h, "%s: %zu bytes, more than the %u MiB a .vmx may hold",
                  name, len, VMX_MAX_FILE >> 20);
        goto fail;
    }
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        text_len -= 3;
        forced_utf8 = true;
    } else if (len >= 2 && (memcmp(buf, "\xff\xfe", 2) == 0 ||
                            memcmp(buf, "\xfe\xff", 2) == 0)) {
        char what[512];

        snprintf(what, sizeof what, "%s: UTF-16 text", name);
        conv = vmc_utf16_to_utf8(h, buf, len,
                                 buf[0] == '\xff' ? VMC_UTF16_BOM_LE
                                                  : VMC_UTF16_BOM_BE,
                                 0, what, &text_len);
        if (conv == NULL)
            goto fail;
        text = conv;
        forced_utf8 = true;
    }
    d->encoding = vmx_find_encoding(text, text_len, &enc_line);
    if (d->encoding && !forced_utf8 && !vmx_is_utf8_name(d->encoding)) {
        char *c = vmx_iconv(h, name, text, text_len, d->encoding, enc_line,
                            &text_len);

        if (c == NULL)
            goto fail;
        free(conv);
        conv = c;
        text = conv;
    }
    r = vmx_parse_text(h, d, text, text_len,
                       d->encoding == NULL && !forced_utf8);
    if (r == 1) {
        /* No .encoding and not UTF-8: what Windows hosts wrote. */
        char *c;

        vmx_dict_clear(d);
        c = vmx_iconv(h, name, text, text_len, "WINDOWS-1252", 0,
                      &text_len);
        if (c == NULL)
            goto fail;
        free(conv);
        conv = c;
        d->encoding_guessed = true;
        r = vmx_parse_text(h, d, conv, text_len, false);
    }
    if (r == -1)
        goto fail;
    free(conv);
    return d;

 fail:
    free(conv);
    vmx_dict_free(d);
    return NULL;
}

/* The first line of BUF (LEN bytes) longer than VMX_MAX_LINE, or 0. */
static unsigned
vmx_long_line(const char *buf, size_t len)
{
    size_t pos = 0, n;
    const char *line;
    unsigned no = 0;

    while (vmx_next_line(buf, len, &pos, &line, &n)) {
        no++;
        if (n > VMX_MAX_LINE)
            return no;
    }
    return 0;
}

struct vmx_dict *
vmx_parse_file(struct vmc_handle *h, const char *path)
{
    struct vmx_dict *d;
    char *buf;
    struct stat st;
    size_t want, got = 0;
    int fd;

    fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd == -1) {
        vmc_error(h, "open: %s: %m", path);
        return NULL;
    }
    if (fstat(fd, &st) == -1) {
        vmc_error(h, "stat: %s: %m", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        vmc_error(h, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    /* Read at most the limit: enough to name an overlong line. */
    want = (uint64_t) st.st_size > VMX_MAX_FILE ? VMX_MAX_FILE
                                                : (size_t) st.st_size;
    buf = malloc(want + 1);
    if (buf == NULL) {
        vmc_error(h, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);

        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            vmc_error(h, "read: %s: %m", path);
            close(fd);
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        got += (size_t) r;
    }
    close(fd);
    buf[got] = '\0';
    if ((uint64_t) st.st_size > VMX_MAX_FILE) {
        unsigned no = vmx_long_line(buf, got);

        if (no)
            vmc_error(h, "%s: line %u: longer than %u bytes (not a .vmx "
                      "line)", path, no, VMX_MAX_LINE);
        else
            vmc_error(h, "%s: %jd bytes, more than the %u MiB a .vmx may "
                      "hold", path, (intmax_t) st.st_size,
                      VMX_MAX_FILE >> 20);
        free(buf);
        return NULL;
    }
    d = vmx_parse_buffer(h, buf, got, path);
    free(buf);
    return d;
}

const struct vmx_entry *
vmx_find(const struct vmx_dict *d, const char *key)
{
    size_t lo = 0, hi = d->nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(key, d->e[mid].key);

        if (c == 0)
            return &d->e[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *
vmx_get(const struct vmx_dict *d, const char *key)
{
    const struct vmx_entry *e = vmx_find(d, key);

    return e ? e->value : NULL;
}

const char *
vmx_getf(const struct vmx_dict *d, const char *fmt, ...)
{
    char key[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof key)
        return NULL;
    return vmx_get(d, key);
}
