/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reproducible output for writers (SOURCE_DATE_EPOCH): see repro.h.
 *
 * The data hash: for each 512-byte guest sector S holding 64-bit
 * little-endian words w[0..63], S contributes
 *     mix(S) * sum(w[j] * K[j])      (mod 2^64)
 * with mix(S) and K[j] odd.  That is linear in every byte at its guest
 * position, so partial writes, any split of the data into requests
 * and any order of arrival give the same sum, and zeros add nothing.
 * It is not a cryptographic hash: it only has to make different disks
 * get different identifiers.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "repro.h"

#define REPRO_SECTOR 512u
#define REPRO_WORDS (REPRO_SECTOR / 8)
/* Largest SOURCE_DATE_EPOCH taken: 9999-12-31 (any later is a typo). */
#define REPRO_MAX_EPOCH 253402300799ull

/* splitmix64's finaliser. */
static uint64_t
repro_mix(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ull;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z;
}

static uint64_t
repro_k(unsigned j)
{
    return repro_mix(0x9e3779b97f4a7c15ull * (j + 1)) | 1;
}

int
vmc_repro_init(struct vmc_handle *h, const char *path, struct vmc_repro *r)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    char *end;
    unsigned long long v;

    memset(r, 0, sizeof *r);
    atomic_init(&r->sum, 0);
    if (s == NULL || *s == '\0')
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
        v > REPRO_MAX_EPOCH) {
        vmc_error(h, "%s: SOURCE_DATE_EPOCH '%s' is not a number of seconds "
                  "since 1970", path, s);
        return -1;
    }
    r->on = true;
    r->epoch = v;
    r->salt = repro_mix(v ^ 0x766d636f6e76ull);    /* "vmconv" */
    return 0;
}

void
vmc_repro_salt(struct vmc_repro *r, uint64_t v)
{
    r->salt = repro_mix(r->salt ^ repro_mix(v + 0x9e3779b97f4a7c15ull));
}

void
vmc_repro_salt_str(struct vmc_repro *r, const char *s)
{
    uint64_t v = 0xcbf29ce484222325ull;     /* FNV-1a */

    for (; *s; s++)
        v = (v ^ (unsigned char) *s) * 0x100000001b3ull;
    vmc_repro_salt(r, v);
}

/* The contribution of LEN bytes at byte IN of guest sector SECTOR
 * (IN + LEN <= 512).
 */
static uint64_t
repro_sector(const uint8_t *p, size_t in, size_t len, uint64_t sector,
             const uint64_t *k)
{
    uint64_t acc = 0;
    size_t j;

    if (in == 0 && len == REPRO_SECTOR) {
        for (j = 0; j < REPRO_WORDS; j++)
            acc += vmc_le64(p + j * 8) * k[j];
    } else {
        uint8_t sec[REPRO_SECTOR];

        memset(sec, 0, sizeof sec);
        memcpy(sec + in, p, len);
        for (j = 0; j < REPRO_WORDS; j++)
            acc += vmc_le64(sec + j * 8) * k[j];
    }
    return acc == 0 ? 0 : acc * (repro_mix(sector) | 1);
}

void
vmc_repro_data(struct vmc_repro *r, const void *buf, size_t len,
               uint64_t offset)
{
    const uint8_t *p = buf;
    uint64_t k[REPRO_WORDS], sum = 0;
    unsigned j;

    if (!r->on || len == 0)
        return;
    for (j = 0; j < REPRO_WORDS; j++)
        k[j] = repro_k(j);
    while (len > 0) {
        size_t in = offset % REPRO_SECTOR;
        size_t n = REPRO_SECTOR - in < len ? REPRO_SECTOR - in : len;

        sum += repro_sector(p, in, n, offset / REPRO_SECTOR, k);
        p += n;
        offset += n;
        len -= n;
    }
    atomic_fetch_add_explicit(&r->sum, sum, memory_order_relaxed);
}

void
vmc_repro_id(struct vmc_repro *r, const char *label, void *out, size_t len)
{
    uint64_t seed = repro_mix(r->salt ^ atomic_load(&r->sum));
    uint8_t *o = out;
    size_t i;

    for (; *label; label++)
        seed = repro_mix(seed ^ (unsigned char) *label);
    for (i = 0; i < len; i++) {
        if (i % 8 == 0)
            seed = repro_mix(seed + 0x9e3779b97f4a7c15ull);
        o[i] = (uint8_t) (seed >> (8 * (i % 8)));
    }
}
