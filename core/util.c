/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for reading untrusted files: full reads and writes, range
 * checks, bounded allocation, small-file reading, CRC-32C, random
 * bytes, check-result builders.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vmconv/convert.h>
#include <vmconv/util.h>

#include "internal.h"

void
vmc_cleanup_free(void *ptr)
{
    free(*(void **) ptr);
}

void
vmc_cleanup_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

void
vmc_cleanup_json_put(void *ptr)
{
    json_object_put(*(struct json_object **) ptr);
}

void
vmc_cleanup_image_close(void *ptr)
{
    vmc_image_close(*(struct vmc_image **) ptr);
}

int
vmc_pread_full(struct vmc_handle *h, const char *path, int fd,
               void *buf, size_t len, uint64_t offset)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t) offset);

        if (r == -1) {
            if (errno == EINTR)
                continue;
            vmc_error_kind(h, VMC_ERR_IO, "%s: read at offset %" PRIu64
                           ": %m", path, offset);
            return -1;
        }
        if (r == 0) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: unexpected end of "
                           "file reading %zu bytes at offset %" PRIu64, path,
                           len, offset);
            return -1;
        }
        p += r;
        len -= (size_t) r;
        offset += (uint64_t) r;
    }
    return 0;
}

int
vmc_pwrite_full(struct vmc_handle *h, const char *path, int fd,
                const void *buf, size_t len, uint64_t offset)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t r = pwrite(fd, p, len, (off_t) offset);

        if (r == -1) {
            if (errno == EINTR)
                continue;
            vmc_error_kind(h, vmc_errno_kind(errno), "%s: write at offset %"
                           PRIu64 ": %m", path, offset);
            return -1;
        }
        p += r;
        len -= (size_t) r;
        offset += (uint64_t) r;
    }
    return 0;
}

int
vmc_check_range(struct vmc_handle *h, const char *path, uint64_t file_size,
                uint64_t offset, uint64_t len, const char *what)
{
    uint64_t end;

    if (vmc_add_overflow(offset, len, &end) || end > file_size) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %s at offset %" PRIu64
                       " length %" PRIu64 " is outside the file (%" PRIu64
                       " bytes)", path, what, offset, len, file_size);
        return -1;
    }
    return 0;
}

void *
vmc_malloc(struct vmc_handle *h, const char *path, uint64_t size,
           const char *what)
{
    void *p;

    if (size > VMC_MAX_ALLOC) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %s would need %" PRIu64
                       " bytes of memory, more than the limit of %llu: the "
                       "image is damaged or not supported", path, what, size,
                       VMC_MAX_ALLOC);
        return NULL;
    }
    p = malloc(size ? size : 1);
    if (p == NULL)
        vmc_error(h, "%s: %s: %m", path, what);
    return p;
}

void *
vmc_calloc(struct vmc_handle *h, const char *path, uint64_t nmemb,
           uint64_t size, const char *what)
{
    uint64_t total;
    void *p;

    if (vmc_mul_overflow(nmemb, size, &total) || total > VMC_MAX_ALLOC) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %s would need %" PRIu64
                       " x %" PRIu64 " bytes of memory, more than the limit "
                       "of %llu: the image is damaged or not supported", path,
                       what, nmemb, size, VMC_MAX_ALLOC);
        return NULL;
    }
    p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        vmc_error(h, "%s: %s: %m", path, what);
    return p;
}

void *
vmc_aligned_alloc(struct vmc_handle *h, size_t align, size_t size)
{
    void *p = NULL;
    int r = posix_memalign(&p, align, size ? size : align);

    if (r != 0) {
        errno = r;
        vmc_error(h, "allocating %zu bytes: %m", size);
        return NULL;
    }
    return p;
}

void *
vmc_read_file_len(struct vmc_handle *h, const char *path, size_t max,
                  size_t *len)
{
    CLEANUP_CLOSE int fd = -1;
    struct stat st;
    char *buf;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        vmc_error_kind(h, errno == EIO ? VMC_ERR_IO : VMC_ERR_BAD_INPUT,
                       "open: %s: %m", path);
        return NULL;
    }
    if (fstat(fd, &st) == -1) {
        vmc_error(h, "stat: %s: %m", path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not a regular file", path);
        return NULL;
    }
    if ((uint64_t) st.st_size > max) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: file is %jd bytes, more "
                       "than the %zu allowed", path, (intmax_t) st.st_size,
                       max);
        return NULL;
    }
    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        vmc_error(h, "%s: %m", path);
        return NULL;
    }
    if (vmc_pread_full(h, path, fd, buf, (size_t) st.st_size, 0) == -1) {
        free(buf);
        return NULL;
    }
    buf[st.st_size] = '\0';
    *len = (size_t) st.st_size;
    return buf;
}

char *
vmc_read_file(struct vmc_handle *h, const char *path, size_t max)
{
    char *buf;
    char *nul;
    size_t len;

    buf = vmc_read_file_len(h, path, max, &len);
    if (buf == NULL)
        return NULL;
    nul = memchr(buf, '\0', len);
    if (nul != NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not a text file (NUL byte "
                       "at offset %td)", path, nul - buf);
        free(buf);
        return NULL;
    }
    return buf;
}

int
vmc_write_file_new(struct vmc_handle *h, const char *path, const void *buf,
                   size_t len)
{
    const char *b = buf;
    size_t off = 0;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0644);
    if (fd == -1) {
        vmc_error_kind(h, errno == ENOSPC ? VMC_ERR_NO_SPACE : VMC_ERR_IO,
                       "create: %s: %m", path);
        return -1;
    }
    while (off < len) {
        ssize_t r = write(fd, b + off, len - off);

        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            goto fail;
        off += (size_t) r;
    }
    if (fsync(fd) == -1)
        goto fail;
    if (close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    return 0;

fail:
    vmc_error_kind(h, errno == ENOSPC || errno == EDQUOT ? VMC_ERR_NO_SPACE
                                                         : VMC_ERR_IO,
                   "write: %s: %m", path);
    if (fd >= 0)
        close(fd);
    unlink(path);
    return -1;
}

/* ---- UTF-16 ------------------------------------------------------- */

/* Append the UTF-8 encoding of code point C at OUT; returns its length
 * (1 to 4).
 */
static size_t
utf8_put(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char) c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char) (0xc0 | (c >> 6));
        out[1] = (char) (0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char) (0xe0 | (c >> 12));
        out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[2] = (char) (0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char) (0xf0 | (c >> 18));
    out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
    out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
    out[3] = (char) (0x80 | (c & 0x3f));
    return 4;
}

/* Decoding errors are reported only when a handle is given. */
#define UTF16_ERROR(h, ...)                     \
    do {                                        \
        if ((h) != NULL)                        \
            vmc_error_kind((h), VMC_ERR_BAD_INPUT,      \
                           __VA_ARGS__);                \
    } while (0)

char *
vmc_utf16_to_utf8(struct vmc_handle *h, const void *p, size_t len_bytes,
                  enum vmc_utf16_order order, unsigned flags,
                  const char *what, size_t *out_len)
{
    const uint8_t *b = p;
    bool be = order == VMC_UTF16_BE || order == VMC_UTF16_BOM_BE;
    CLEANUP_FREE char *out = NULL;
    size_t n, i = 0, o = 0;

    if (len_bytes % 2 != 0) {
        UTF16_ERROR(h, "%s: invalid UTF-16 (odd length of %zu bytes)", what,
                  len_bytes);
        return NULL;
    }
    n = len_bytes / 2;
    if ((order == VMC_UTF16_BOM_LE || order == VMC_UTF16_BOM_BE) && n > 0) {
        if (b[0] == 0xff && b[1] == 0xfe) {
            be = false;
            i = 1;
        }
        else if (b[0] == 0xfe && b[1] == 0xff) {
            be = true;
            i = 1;
        }
    }
    /* At most 3 UTF-8 bytes per code unit (a pair gives 4 for 2). */
    if (n > (SIZE_MAX - 1) / 3) {
        UTF16_ERROR(h, "%s: UTF-16 string too long", what);
        return NULL;
    }
    out = malloc(n * 3 + 1);
    if (out == NULL) {
        if (h)
            vmc_error(h, "%s: %m", what);
        return NULL;
    }
    for (; i < n; i++) {
        uint32_t c = be ? vmc_be16(b + 2 * i) : vmc_le16(b + 2 * i);

        if (c == 0) {
            if (flags & VMC_UTF16_STOP_AT_NUL)
                break;
            UTF16_ERROR(h, "%s: invalid UTF-16 (NUL at byte offset %zu)", what,
                      2 * i);
            return NULL;
        }
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
            uint32_t lo = be ? vmc_be16(b + 2 * i + 2)
                : vmc_le16(b + 2 * i + 2);

            if (lo >= 0xdc00 && lo <= 0xdfff) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (c >= 0xd800 && c <= 0xdfff) {
            UTF16_ERROR(h, "%s: invalid UTF-16 (unpaired surrogate %04" PRIx32
                      " at byte offset %zu)", what, c, 2 * i);
            return NULL;
        }
        o += utf8_put(out + o, c);
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return vmc_steal_pointer(&out);
}

/* ---- Parsing values ----------------------------------------------- */

int
vmc_parse_bool(struct vmc_handle *h, const char *what, const char *s,
               bool *val)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    size_t i;

    for (i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *val = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *val = false;
            return 0;
        }
    }
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '%s' is not a boolean "
                   "(yes/no, true/false, on/off or 1/0)", what, s ? s : "");
    return -1;
}

int
vmc_parse_uint(struct vmc_handle *h, const char *what, const char *s,
               uint64_t max, uint64_t *val)
{
    uint64_t v = 0;
    const char *p;

    if (s == NULL || *s == '\0') {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '' is not a number",
                       what);
        return -1;
    }
    for (p = s; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned) (*p - '0');

        if (v > (max - d) / 10) {
            /* Distinguish "12x" (not a number) from "999" (too big). */
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p != '\0')
                break;
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '%s' is more than %"
                           PRIu64, what, s, max);
            return -1;
        }
        v = v * 10 + d;
    }
    if (*p != '\0') {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '%s' is not a number",
                       what, s);
        return -1;
    }
    *val = v;
    return 0;
}

/* True if P is a suffix vmc_parse_size accepts ("", "B", "K", "KiB",
 * "MB" ...).
 */
static bool
size_suffix_ok(const char *p)
{
    if (*p == '\0')
        return true;
    if (strchr("bB", *p))
        return p[1] == '\0';
    if (strchr("kKmMgGtTpP", *p) == NULL)
        return false;
    p++;
    if (*p == 'i')
        p++;
    if (*p == 'B')
        p++;
    return *p == '\0';
}

int
vmc_parse_size_what(struct vmc_handle *h, const char *what, const char *s,
                    uint64_t *val)
{
    const char *p;
    uint64_t v;

    /* vmc_parse_size refuses garbage and overflow alike; tell the two
     * apart for the message.
     */
    if (s && *s >= '0' && *s <= '9' && vmc_parse_size(s, &v) == 0 &&
        v <= (uint64_t) INT64_MAX) {
        *val = v;
        return 0;
    }
    for (p = s ? s : ""; *p >= '0' && *p <= '9'; p++)
        ;
    if (s && p > s && size_suffix_ok(p)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '%s' is too large", what, s);
        return -1;
    }
    vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: '%s' is not a size (a "
                   "number, optionally followed by K, M, G, T or P)", what,
                   s ? s : "");
    return -1;
}

bool
vmc_is_zero(const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;

    /* Check the first 16 bytes one by one, then compare the buffer with
     * itself shifted by 16: memcmp is vectorised and this finds the
     * first non-zero byte without a second buffer.
     */
    for (i = 0; i < len && i < 16; i++)
        if (b[i] != 0)
            return false;
    if (len <= 16)
        return true;
    return memcmp(b, b + 16, len - 16) == 0;
}

void
vmc_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t r = getrandom(p, len, 0);

        if (r <= 0) {
            if (r == -1 && errno == EINTR)
                continue;
            /* getrandom(2) cannot fail for small requests on Linux >=
             * 3.17; fall back to rand() rather than abort.
             */
            for (; len > 0; len--)
                *p++ = (uint8_t) rand();
            return;
        }
        p += r;
        len -= (size_t) r;
    }
}

/* CRC-32C, reflected polynomial 0x82F63B78, slicing by one byte. */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void
crc32c_init(void)
{
    uint32_t i, j, c;

    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc32c_table[i] = c;
    }
}

uint32_t
vmc_crc32c(uint32_t crc, const void *p, size_t len)
{
    const uint8_t *b = p;

    pthread_once(&crc32c_once, crc32c_init);
    crc = ~crc;
    while (len--)
        crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

unsigned
vmc_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : (unsigned) n;
}

/* ---- Check results ------------------------------------------------ */

#define VMC_CHECK_MAX_MESSAGES 1000

static void
check_add(struct vmc_check_result *r, const char *kind, const char *fmt,
          va_list ap)
{
    char *body = NULL, *msg = NULL;
    char **n;

    if (r->nmessages >= VMC_CHECK_MAX_MESSAGES)
        return;
    if (vasprintf(&body, fmt, ap) == -1)
        return;
    if (r->nmessages == VMC_CHECK_MAX_MESSAGES - 1) {
        free(body);
        body = strdup("too many findings; the rest are counted, not listed");
        kind = "note";
        if (body == NULL)
            return;
    }
    if (asprintf(&msg, "%s: %s", kind, body) == -1) {
        free(body);
        return;
    }
    free(body);
    n = realloc(r->messages, (r->nmessages + 2) * sizeof *n);
    if (n == NULL) {
        free(msg);
        return;
    }
    r->messages = n;
    r->messages[r->nmessages++] = msg;
    r->messages[r->nmessages] = NULL;
}

void
vmc_check_error(struct vmc_check_result *r, const char *fmt, ...)
{
    va_list ap;

    r->errors++;
    va_start(ap, fmt);
    check_add(r, "error", fmt, ap);
    va_end(ap);
}

void
vmc_check_leak(struct vmc_check_result *r, const char *fmt, ...)
{
    va_list ap;

    r->leaks++;
    va_start(ap, fmt);
    check_add(r, "leak", fmt, ap);
    va_end(ap);
}

void
vmc_check_note(struct vmc_check_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_add(r, "note", fmt, ap);
    va_end(ap);
}

void
vmc_check_result_free(struct vmc_check_result *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nmessages; i++)
        free(r->messages[i]);
    free(r->messages);
    r->messages = NULL;
    r->nmessages = 0;
}

/* ---- Byte-range source names ------------------------------------ */

int
vmc_range_name_parse(struct vmc_handle *h, const char *name,
                     const char **path, uint64_t *offset, uint64_t *length)
{
    const char *p = name + strlen(VMC_RANGE_PREFIX);
    uint64_t v[2];
    int i;

    if (strncmp(name, VMC_RANGE_PREFIX, strlen(VMC_RANGE_PREFIX)) != 0)
        return 0;
    for (i = 0; i < 2; i++) {
        char *end;

        errno = 0;
        v[i] = strtoull(p, &end, 10);
        if (end == p || *end != ':' || errno != 0 || *p < '0' || *p > '9') {
            vmc_error_kind(h, VMC_ERR_USAGE, "%s: not a byte range source "
                           "(range:OFFSET:LENGTH:PATH)", name);
            return -1;
        }
        p = end + 1;
    }
    if (*p == '\0') {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: not a byte range source "
                       "(range:OFFSET:LENGTH:PATH)", name);
        return -1;
    }
    *path = p;
    *offset = v[0];
    *length = v[1];
    return 1;
}

/* ---- Concatenation and gzip source names -------------------------- */

/* Parse a decimal number ending at ':' (or, with END_OK, at the end of
 * the string).  Advances *P past it and its ':'.
 */
static bool
name_number(const char **p, bool end_ok, uint64_t *v)
{
    char *end;

    if (**p < '0' || **p > '9')
        return false;
    errno = 0;
    *v = strtoull(*p, &end, 10);
    if (errno != 0 || !(*end == ':' || (end_ok && *end == '\0')))
        return false;
    *p = *end ? end + 1 : end;
    return true;
}

void
vmc_concat_parts_free(struct vmc_name_part *parts, size_t n)
{
    size_t i;

    if (parts == NULL)
        return;
    for (i = 0; i < n; i++)
        free(parts[i].path);
    free(parts);
}

int
vmc_concat_name_parse(struct vmc_handle *h, const char *name,
                      struct vmc_name_part **partsp, size_t *np)
{
    const char *p = name + strlen(VMC_CONCAT_PREFIX);
    struct vmc_name_part *parts = NULL;
    uint64_t n, i, v[3];
    int j;

    if (strncmp(name, VMC_CONCAT_PREFIX, strlen(VMC_CONCAT_PREFIX)) != 0)
        return 0;
    if (!name_number(&p, false, &n) || n == 0 ||
        n > VMC_CONCAT_MAX_PARTS)
        goto bad;
    parts = calloc((size_t) n, sizeof *parts);
    if (parts == NULL) {
        vmc_error(h, "%s: %m", name);
        return -1;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < 3; j++)
            if (!name_number(&p, false, &v[j]))
                goto bad;
        /* V[2] bytes of path, then ':' and the next part, or the end. */
        if (v[2] == 0 || v[2] > 65536 || strnlen(p, (size_t) v[2]) < v[2])
            goto bad;
        if (p[v[2]] != (i + 1 < n ? ':' : '\0'))
            goto bad;
        parts[i].path = strndup(p, (size_t) v[2]);
        if (parts[i].path == NULL) {
            vmc_error(h, "%s: %m", name);
            vmc_concat_parts_free(parts, (size_t) n);
            return -1;
        }
        parts[i].offset = v[0];
        parts[i].length = v[1];
        p += v[2] + (i + 1 < n);
    }
    *partsp = parts;
    *np = (size_t) n;
    return 1;

bad:
    vmc_concat_parts_free(parts, (size_t) n);
    vmc_error_kind(h, VMC_ERR_USAGE, "%s: not a concatenation source "
                   "(concat:COUNT then COUNT times :OFFSET:LENGTH:"
                   "PATHLENGTH:PATH)", name);
    return -1;
}

const char *
vmc_gzip_name_inner(const char *name)
{
    if (strncmp(name, VMC_GZIP_PREFIX, strlen(VMC_GZIP_PREFIX)) != 0)
        return NULL;
    return name + strlen(VMC_GZIP_PREFIX);
}

bool
vmc_source_name_holds(struct vmc_handle *h, const char *name,
                      const char *path)
{
    struct vmc_name_part *parts = NULL;
    const char *inner, *file;
    uint64_t offset, length;
    struct stat a, b;
    bool found = false;
    size_t n, i;

    if (stat(path, &a) == -1)
        return false;
    inner = vmc_gzip_name_inner(name);
    if (inner)
        name = inner;
    switch (vmc_range_name_parse(h, name, &file, &offset, &length)) {
    case -1:
        vmc_clear_error(h);
        return false;
    case 1:
        return stat(file, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino;
    }
    switch (vmc_concat_name_parse(h, name, &parts, &n)) {
    case -1:
        vmc_clear_error(h);
        return false;
    case 1:
        for (i = 0; i < n && !found; i++)
            found = stat(parts[i].path, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino;
        vmc_concat_parts_free(parts, n);
        return found;
    }
    /* "gzip:PATH" */
    return inner && stat(inner, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino;
}
