/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-1 and SHA-256 digests for OVA manifests (through nettle). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include <vmconv/util.h>

#include "internal.h"

struct vmc_digest_ctx {
    enum vmc_digest kind;
    union {
        struct sha1_ctx sha1;
        struct sha256_ctx sha256;
    } u;
};

static const char *const digest_names[VMC_DIGEST_LAST] = {
    [VMC_DIGEST_SHA1] = "SHA1",
    [VMC_DIGEST_SHA256] = "SHA256",
};

const char *
vmc_digest_name(enum vmc_digest kind)
{
    return (unsigned) kind < VMC_DIGEST_LAST ? digest_names[kind] : NULL;
}

int
vmc_digest_from_name(const char *name)
{
    int i;

    for (i = 0; name && i < VMC_DIGEST_LAST; i++)
        if (strcasecmp(name, digest_names[i]) == 0)
            return i;
    return -1;
}

struct vmc_digest_ctx *
vmc_digest_new(struct vmc_handle *h, enum vmc_digest kind)
{
    struct vmc_digest_ctx *c;

    if ((unsigned) kind >= VMC_DIGEST_LAST) {
        vmc_error_kind(h, VMC_ERR_USAGE, "digest: unknown kind %d", (int) kind);
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        vmc_error(h, "digest: %m");
        return NULL;
    }
    c->kind = kind;
    if (kind == VMC_DIGEST_SHA1)
        sha1_init(&c->u.sha1);
    else
        sha256_init(&c->u.sha256);
    return c;
}

void
vmc_digest_update(struct vmc_digest_ctx *c, const void *buf, size_t len)
{
    if (c->kind == VMC_DIGEST_SHA1)
        sha1_update(&c->u.sha1, len, buf);
    else
        sha256_update(&c->u.sha256, len, buf);
}

void
vmc_digest_final(struct vmc_digest_ctx *c, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    size_t n, i;

    if (c->kind == VMC_DIGEST_SHA1) {
        n = SHA1_DIGEST_SIZE;
        sha1_digest(&c->u.sha1, n, d);
    }
    else {
        n = SHA256_DIGEST_SIZE;
        sha256_digest(&c->u.sha256, n, d);
    }
    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 0xf];
    }
    hex[2 * n] = '\0';
    free(c);
}

void
vmc_digest_free(struct vmc_digest_ctx *c)
{
    free(c);
}

#define DIGEST_BUF (1024 * 1024)

int
vmc_digest_file(struct vmc_handle *h, enum vmc_digest kind, const char *path,
                char *hex)
{
    CLEANUP_CLOSE int fd = -1;
    CLEANUP_FREE uint8_t *buf = NULL;
    struct vmc_digest_ctx *c;
    struct stat st;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        vmc_error_kind(h, errno == EIO ? VMC_ERR_IO : VMC_ERR_BAD_INPUT,
                       "open: %s: %m", path);
        return -1;
    }
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: not a regular file", path);
        return -1;
    }
    buf = malloc(DIGEST_BUF);
    if (buf == NULL) {
        vmc_error(h, "%s: %m", path);
        return -1;
    }
    c = vmc_digest_new(h, kind);
    if (c == NULL)
        return -1;
    for (;;) {
        ssize_t r = read(fd, buf, DIGEST_BUF);

        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            vmc_error_kind(h, VMC_ERR_IO, "%s: read: %m", path);
            vmc_digest_free(c);
            return -1;
        }
        if (r == 0)
            break;
        vmc_digest_update(c, buf, (size_t) r);
        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            vmc_digest_free(c);
            return -1;
        }
    }
    vmc_digest_final(c, hex);
    return 0;
}
