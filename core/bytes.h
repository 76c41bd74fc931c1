/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Endian decoding and checked arithmetic for bytes read from files.
 *
 * Everything read from an image or config is hostile until checked.
 * Decode on-disk structures with these helpers (they accept unaligned
 * pointers), and compute offsets and sizes with the checked helpers so
 * an overflow is an error, never a wrap.
 */
#ifndef VMCONV_BYTES_H
#define VMCONV_BYTES_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t
vmc_le16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return le16toh(v);
}

static inline uint32_t
vmc_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return le32toh(v);
}

static inline uint64_t
vmc_le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return le64toh(v);
}

static inline uint16_t
vmc_be16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return be16toh(v);
}

static inline uint32_t
vmc_be32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return be32toh(v);
}

static inline uint64_t
vmc_be64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return be64toh(v);
}

static inline void
vmc_put_le16(void *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, sizeof v);
}

static inline void
vmc_put_le32(void *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, sizeof v);
}

static inline void
vmc_put_le64(void *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, sizeof v);
}

static inline void
vmc_put_be16(void *p, uint16_t v)
{
    v = htobe16(v);
    memcpy(p, &v, sizeof v);
}

static inline void
vmc_put_be32(void *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, sizeof v);
}

static inline void
vmc_put_be64(void *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, sizeof v);
}

/* Checked arithmetic: return true on overflow. */
static inline bool
vmc_add_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_add_overflow(a, b, r);
}

static inline bool
vmc_mul_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_mul_overflow(a, b, r);
}

static inline bool
vmc_is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static inline uint64_t
vmc_div_round_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* Round A up to a multiple of B (B a power of two).  Callers check
 * that A + B - 1 does not overflow (all our values are < 2^62).
 */
static inline uint64_t
vmc_round_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) & ~(b - 1);
}

/* True if the LEN bytes at P are all zero. */
bool vmc_is_zero(const void *p, size_t len);

#endif /* VMCONV_BYTES_H */
