/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: the "HyperVStorage" container of .vmcx (and
 * .vmrs) files into the key tree (hv.h).
 *
 * Layout (../shared/specs/hyperv-config.md section 3; all integers
 * little-endian, structures packed):
 *
 *   0x0000, 0x1000  two file headers (46 bytes, CRC-32 over them with
 *                   the checksum zeroed); the valid one with the higher
 *                   sequence wins.  Format version 0x0400 only.
 *   replay log      header (34 bytes, CRC-32): a file with outstanding
 *                   entries was not closed cleanly and is refused.
 *   0x2000          the first object table: u32 signature, u32 count,
 *                   18-byte entries {type, CRC-32, offset, size,
 *                   allocated}; type 1 chains another object table,
 *                   2 is a key table, 3 a file object (large values).
 *   key tables      10-byte header {signature 2, index, sequence,
 *                   CRC-32}; for each index the highest sequence wins.
 *                   Entries of 21 bytes {u16 type | flags << 8, u32
 *                   size, u16 parent table, u32 parent offset, CRC-32,
 *                   u32 insertion sequence, u8 name size} then the
 *                   UTF-8 name with its NUL, then the value.  An
 *                   entry's CRC-32 covers its header, name and value.
 *
 * Everything is checked before it is used: every offset and length
 * against the buffer and its table, checksums, parent links (which
 * must name a node: no cycles, at most HV_MAX_DEPTH deep), counts.
 * Anything not understood (another format version, an unknown object
 * or key type or flag) is refused with its offset.  The checksums'
 * coverage was confirmed on the corpus' .VMRS (every header, object
 * table entry, key table and key entry matches).
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hv.h"

#define VMCX_HDR_SIG      0x01282014u
#define VMCX_HDR_SIZE     46
#define VMCX_HDR2_OFF     0x1000u
#define VMCX_OT_OFF       0x2000u
#define VMCX_OT_SIG       0x01110001u
#define VMCX_OTE_SIZE     18
#define VMCX_RL_SIG       0x01110003u
#define VMCX_RL_SIZE      34
#define VMCX_KT_SIG       0x0002u
#define VMCX_KT_HDR       10
#define VMCX_KE_HDR       21
#define VMCX_VERSION      0x0400u
#define VMCX_MAX_OTABLES  64
#define VMCX_MAX_KTABLE   (16u << 20)

enum vmcx_obj {
    VMCX_OBJ_EMPTY = 0,
    VMCX_OBJ_TABLE = 1,
    VMCX_OBJ_KEYS = 2,
    VMCX_OBJ_FILE = 3,
    VMCX_OBJ_FREE = 4,
    VMCX_OBJ_UNKNOWN5 = 5,
    VMCX_OBJ_REPLAY = 6,
    VMCX_OBJ_CHANGES = 7,
};

enum vmcx_key {
    VMCX_KEY_FREE = 1,
    VMCX_KEY_INT = 3,
    VMCX_KEY_UINT = 4,
    VMCX_KEY_DOUBLE = 5,
    VMCX_KEY_STRING = 6,
    VMCX_KEY_ARRAY = 7,
    VMCX_KEY_BOOL = 8,
    VMCX_KEY_NODE = 9,
};

#define VMCX_FLAG_FILE_OBJECT 0x01u
#define VMCX_FLAGS_KNOWN      0x07u

struct vmcx_object {
    uint8_t type;
    uint64_t off;
    uint64_t size;
};

struct vmcx_ktable {
    uint16_t index, seq;
    uint64_t off;
    uint32_t size;
};

struct vmcx_entry {
    struct hv_node *node;
    uint16_t table;
    uint32_t off;                /* in its table */
    uint16_t ptable;
    uint32_t poff;
    uint64_t foff;               /* in the file */
    bool is_node;
    bool attached;
    size_t parent;               /* index in entries, or SIZE_MAX: root */
};

struct vmcx {
    struct vmc_handle *h;
    const char *name;
    const uint8_t *b;
    size_t len;
    uint32_t align;
    struct vmcx_object *obj;
    size_t nobj, aobj;
    struct vmcx_ktable *kt;
    size_t nkt, akt;
    struct vmcx_entry *e;
    size_t ne, ae;
};

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
           (uint32_t) p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
    return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

/* CRC-32 (zlib's) of LEN bytes at P with the 4 bytes at CK_OFF zeroed. */
static uint32_t
crc_without(const uint8_t *p, size_t len, size_t ck_off)
{
    static const uint8_t zero[4];
    uLong c = crc32(0L, Z_NULL, 0);

    c = crc32(c, p, (uInt) ck_off);
    c = crc32(c, zero, 4);
    c = crc32(c, p + ck_off + 4, (uInt) (len - ck_off - 4));
    return (uint32_t) c;
}

static void vmcx_err(struct vmcx *x, enum vmc_error_kind kind, uint64_t off,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "NAME: offset 0xOFF: MESSAGE". */
static void
vmcx_err(struct vmcx *x, enum vmc_error_kind kind, uint64_t off,
         const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vmc_error_kind(x->h, kind, "%s: offset 0x%" PRIx64 ": %s", x->name, off,
                   msg);
}

#define BAD(x, off, ...) vmcx_err(x, VMC_ERR_BAD_INPUT, off, __VA_ARGS__)
#define UNSUPPORTED(x, off, ...) \
    vmcx_err(x, VMC_ERR_UNSUPPORTED, off, __VA_ARGS__)

static bool
in_file(const struct vmcx *x, uint64_t off, uint64_t len)
{
    return off <= x->len && len <= x->len - off;
}

static int
oom(struct vmcx *x)
{
    vmc_error(x->h, "%s: out of memory", x->name);
    return -1;
}

/* ---- Headers and replay log ---------------------------------------------- */

/* Why the header at OFF is not valid, or NULL. */
static const char *
vmcx_header_problem(const struct vmcx *x, uint64_t off, char *buf, size_t len)
{
    const uint8_t *p = x->b + off;
    uint32_t ck;

    if (!in_file(x, off, VMCX_HDR_SIZE))
        return "the file ends inside the header";
    if (le32(p) != VMCX_HDR_SIG) {
        snprintf(buf, len, "signature 0x%08" PRIx32 " is not 0x%08x (not a "
                 "Hyper-V .vmcx / .vmrs file)", le32(p), VMCX_HDR_SIG);
        return buf;
    }
    ck = crc_without(p, VMCX_HDR_SIZE, 4);
    if (ck != le32(p + 4)) {
        snprintf(buf, len, "header checksum 0x%08" PRIx32 " does not match "
                 "its content (0x%08" PRIx32 ")", le32(p + 4), ck);
        return buf;
    }
    return NULL;
}

/* The replay log at OFF, named by the field at WHERE. */
static int
vmcx_replay_log(struct vmcx *x, uint64_t off, uint64_t where)
{
    const uint8_t *p;
    uint32_t n;

    if (!in_file(x, off, VMCX_RL_SIZE)) {
        BAD(x, where, "the replay log offset 0x%" PRIx64 " is outside "
            "the file (%zu bytes)", off, x->len);
        return -1;
    }
    p = x->b + off;
    if (le32(p) != VMCX_RL_SIG) {
        BAD(x, off, "replay log signature 0x%08" PRIx32 " is not 0x%08x",
            le32(p), VMCX_RL_SIG);
        return -1;
    }
    if (crc_without(p, VMCX_RL_SIZE, 4) != le32(p + 4)) {
        BAD(x, off, "replay log header checksum 0x%08" PRIx32 " does not "
            "match its content", le32(p + 4));
        return -1;
    }
    n = le32(p + 8);
    if (n != 0) {
        UNSUPPORTED(x, off, "the replay log holds %" PRIu32 " outstanding "
                    "entries: the file was not closed cleanly and vmconv "
                    "does not replay them; start the VM's host service (or "
                    "import and export the VM) on Hyper-V, then try again",
                    n);
        return -1;
    }
    return 0;
}

/* ---- Object tables ---------------------------------------------------------- */

static int
vmcx_add_object(struct vmcx *x, uint8_t type, uint64_t off, uint64_t size)
{
    if (x->nobj == x->aobj) {
        size_t a = x->aobj ? x->aobj * 2 : 64;
        struct vmcx_object *o = realloc(x->obj, a * sizeof *o);

        if (o == NULL)
            return oom(x);
        x->obj = o;
        x->aobj = a;
    }
    x->obj[x->nobj].type = type;
    x->obj[x->nobj].off = off;
    x->obj[x->nobj].size = size;
    x->nobj++;
    return 0;
}

static const char *
vmcx_object_name(uint8_t type)
{
    static const char *const names[] = {
        "file headers", "object table", "key table", "file object", "free space",
        "type 5 object", "replay log", "change tracking buffer"
    };

    return type < 8 ? names[type] : "object";
}

static int
vmcx_object_tables(struct vmcx *x)
{
    uint64_t queue[VMCX_MAX_OTABLES], sizes[VMCX_MAX_OTABLES];
    size_t nq = 1, qi;

    queue[0] = VMCX_OT_OFF;
    sizes[0] = x->align;
    for (qi = 0; qi < nq; qi++) {
        uint64_t toff = queue[qi], tsize = sizes[qi];
        const uint8_t *p;
        uint32_t count, i;

        if (!in_file(x, toff, 8)) {
            BAD(x, toff, "the object table is outside the file (%zu bytes)",
                x->len);
            return -1;
        }
        p = x->b + toff;
        if (le32(p) != VMCX_OT_SIG) {
            BAD(x, toff, "object table signature 0x%08" PRIx32 " is not "
                "0x%08x", le32(p), VMCX_OT_SIG);
            return -1;
        }
        count = le32(p + 4);
        if ((uint64_t) count * VMCX_OTE_SIZE + 8 > tsize ||
            !in_file(x, toff, (uint64_t) count * VMCX_OTE_SIZE + 8)) {
            BAD(x, toff + 4, "%" PRIu32 " object table entries do not fit "
                "in the table (%" PRIu64 " bytes) or the file", count, tsize);
            return -1;
        }
        if (vmcx_add_object(x, VMCX_OBJ_TABLE, toff, tsize) == -1)
            return -1;
        for (i = 0; i < count; i++) {
            uint64_t eoff = toff + 8 + (uint64_t) i * VMCX_OTE_SIZE;
            const uint8_t *e = x->b + eoff;
            uint8_t type = e[0], alloc = e[17];
            uint64_t off = le64(e + 5), size = le32(e + 13);
            size_t j;

            if (alloc == 0)
                continue;
            if (crc_without(e, VMCX_OTE_SIZE, 1) != le32(e + 1)) {
                BAD(x, eoff, "object table entry %" PRIu32 ": checksum "
                    "0x%08" PRIx32 " does not match its content", i,
                    le32(e + 1));
                return -1;
            }
            if (type > VMCX_OBJ_CHANGES) {
                UNSUPPORTED(x, eoff, "object table entry %" PRIu32 ": "
                            "object type %u is not one vmconv knows", i,
                            type);
                return -1;
            }
            if (type == VMCX_OBJ_EMPTY)
                continue;
            if (type == VMCX_OBJ_REPLAY) {
                if (vmcx_replay_log(x, off, eoff) == -1)
                    return -1;
                continue;
            }
            if (size == 0 || off % x->align != 0 || off < VMCX_OT_OFF ||
                !in_file(x, off, size)) {
                BAD(x, eoff, "object table entry %" PRIu32 ": %s at 0x%"
                    PRIx64 " of %" PRIu64 " bytes is not aligned to 0x%"
                    PRIx32 " inside the file (%zu bytes)", i,
                    vmcx_object_name(type), off, size, x->align, x->len);
                return -1;
            }
            if (type == VMCX_OBJ_TABLE) {
                for (j = 0; j < nq; j++)
                    if (queue[j] == off) {
                        BAD(x, eoff, "object table entry %" PRIu32 ": the "
                            "object table at 0x%" PRIx64 " is chained twice "
                            "(a loop)", i, off);
                        return -1;
                    }
                if (nq == VMCX_MAX_OTABLES) {
                    BAD(x, eoff, "more than %d object tables",
                        VMCX_MAX_OTABLES);
                    return -1;
                }
                queue[nq] = off;
                sizes[nq] = size;
                nq++;
                continue;
            }
            if (vmcx_add_object(x, type, off, size) == -1)
                return -1;
        }
    }
    return 0;
}

static int
cmp_object(const void *a, const void *b)
{
    const struct vmcx_object *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->type < y->type ? -1 : x->type > y->type;
}

/* No two objects share a byte. */
static int
vmcx_no_overlap(struct vmcx *x)
{
    size_t i;

    if (x->nobj > 1)
        qsort(x->obj, x->nobj, sizeof *x->obj, cmp_object);
    for (i = 1; i < x->nobj; i++)
        if (x->obj[i - 1].off + x->obj[i - 1].size > x->obj[i].off) {
            BAD(x, x->obj[i].off, "the %s here overlaps the %s at 0x%"
                PRIx64, vmcx_object_name(x->obj[i].type),
                vmcx_object_name(x->obj[i - 1].type), x->obj[i - 1].off);
            return -1;
        }
    return 0;
}

/* ---- Key tables ---------------------------------------------------------------- */

static int
vmcx_key_tables(struct vmcx *x)
{
    size_t i, j;

    for (i = 0; i < x->nobj; i++) {
        const struct vmcx_object *o = &x->obj[i];
        const uint8_t *p = x->b + o->off;
        struct vmcx_ktable t;

        if (o->type != VMCX_OBJ_KEYS)
            continue;
        if (o->size < VMCX_KT_HDR || o->size > VMCX_MAX_KTABLE) {
            BAD(x, o->off, "a key table of %" PRIu64 " bytes", o->size);
            return -1;
        }
        if (le16(p) != VMCX_KT_SIG) {
            BAD(x, o->off, "key table signature 0x%04x is not 0x%04x",
                le16(p), VMCX_KT_SIG);
            return -1;
        }
        if (crc_without(p, VMCX_KT_HDR, 6) != le32(p + 6)) {
            BAD(x, o->off, "key table checksum 0x%08" PRIx32 " does not "
                "match its header", le32(p + 6));
            return -1;
        }
        t.index = le16(p + 2);
        t.seq = le16(p + 4);
        t.off = o->off;
        t.size = (uint32_t) o->size;
        if (t.index == 0) {
            BAD(x, o->off + 2, "key table index 0 (they start at 1)");
            return -1;
        }
        for (j = 0; j < x->nkt; j++)
            if (x->kt[j].index == t.index)
                break;
        if (j < x->nkt) {
            if (x->kt[j].seq == t.seq) {
                BAD(x, o->off, "two key tables have index %u and sequence %u "
                    "(the other at 0x%" PRIx64 ")", t.index, t.seq,
                    x->kt[j].off);
                return -1;
            }
            if (t.seq > x->kt[j].seq)
                x->kt[j] = t;
            continue;
        }
        if (x->nkt == x->akt) {
            size_t a = x->akt ? x->akt * 2 : 16;
            struct vmcx_ktable *k = realloc(x->kt, a * sizeof *k);

            if (k == NULL)
                return oom(x);
            x->kt = k;
            x->akt = a;
        }
        x->kt[x->nkt++] = t;
    }
    return 0;
}

static int
cmp_ktable(const void *a, const void *b)
{
    const struct vmcx_ktable *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

static const struct vmcx_object *
vmcx_file_object(const struct vmcx *x, uint64_t off)
{
    size_t i;

    for (i = 0; i < x->nobj; i++)
        if (x->obj[i].type == VMCX_OBJ_FILE && x->obj[i].off == off)
            return &x->obj[i];
    return NULL;
}

/* The value of the entry at P (file offset FOFF, SIZE bytes, of TYPE and
 * FLAGS, name NAME_LEN bytes with its NUL) into N.  Sets *DATA_SIZE to
 * the bytes its checksum covers.
 */
static int
vmcx_value(struct vmcx *x, const uint8_t *p, uint64_t foff, uint32_t size,
           unsigned type, unsigned flags, unsigned name_len,
           struct hv_node *n, size_t *data_size)
{
    size_t voff = VMCX_KE_HDR + name_len, avail = size - voff;
    const uint8_t *v = p + voff, *data;
    uint64_t dlen;

    if (flags & VMCX_FLAG_FILE_OBJECT) {
        const struct vmcx_object *o;
        uint64_t off;

        if (type != VMCX_KEY_STRING && type != VMCX_KEY_ARRAY) {
            BAD(x, foff, "key '%s': a value of type %u in a file object",
                n->name, type);
            return -1;
        }
        if (avail < 12) {
            BAD(x, foff, "key '%s': the file object pointer does not fit in "
                "the entry", n->name);
            return -1;
        }
        dlen = le32(v);
        off = le64(v + 4);
        o = vmcx_file_object(x, off);
        if (o == NULL || dlen > o->size) {
            BAD(x, foff, "key '%s': %" PRIu64 " bytes at 0x%" PRIx64 " are not "
                "inside a file object", n->name, dlen, off);
            return -1;
        }
        data = x->b + off;
        *data_size = voff + 12;
    }
    else {
        size_t need;

        switch (type) {
        case VMCX_KEY_NODE:
            need = 12;
            break;
        case VMCX_KEY_INT: case VMCX_KEY_UINT: case VMCX_KEY_DOUBLE:
            need = 8;
            break;
        case VMCX_KEY_BOOL:
            need = 4;
            break;
        default:        /* string, array: u32 length then the bytes */
            if (avail < 4) {
                BAD(x, foff, "key '%s': the value's length does not fit in "
                    "the entry", n->name);
                return -1;
            }
            need = 4 + (size_t) le32(v);
            if (need < 4)
                need = SIZE_MAX;
            break;
        }
        if (need > avail) {
            BAD(x, foff, "key '%s': a value of %zu bytes does not fit in the "
                "entry (%zu bytes left)", n->name, need, avail);
            return -1;
        }
        *data_size = voff + need;
        data = v + 4;
        dlen = need - 4;
    }

    switch (type) {
    case VMCX_KEY_NODE:
        n->type = HV_NODE;
        break;
    case VMCX_KEY_INT:
        n->type = HV_INT;
        n->i = (int64_t) le64(v);
        break;
    case VMCX_KEY_UINT:
        n->type = HV_UINT;
        n->u = le64(v);
        break;
    case VMCX_KEY_DOUBLE: {
        uint64_t bits = le64(v);

        n->type = HV_DOUBLE;
        memcpy(&n->d, &bits, sizeof n->d);
        break;
    }
    case VMCX_KEY_BOOL:
        n->type = HV_BOOL;
        n->b = le32(v) != 0;
        break;
    case VMCX_KEY_STRING: {
        char what[256];

        if (dlen > HV_MAX_STRING) {
            BAD(x, foff, "key '%s': a string of %" PRIu64 " bytes", n->name,
                dlen);
            return -1;
        }
        snprintf(what, sizeof what, "%s: offset 0x%" PRIx64 ": key '%s'",
                 x->name, foff, n->name);
        n->type = HV_STRING;
        n->s = vmc_utf16_to_utf8(x->h, data, (size_t) dlen, VMC_UTF16_LE,
                                 VMC_UTF16_STOP_AT_NUL, what, NULL);
        if (n->s == NULL)
            return -1;
        break;
    }
    case VMCX_KEY_ARRAY:
        if (dlen > HV_MAX_STRING) {
            BAD(x, foff, "key '%s': an array of %" PRIu64 " bytes", n->name,
                dlen);
            return -1;
        }
        n->type = HV_BYTES;
        n->len = (size_t) dlen;
        n->bytes = malloc(n->len + 1);
        if (n->bytes == NULL)
            return oom(x);
        memcpy(n->bytes, data, n->len);
        break;
    }
    return 0;
}

static int
vmcx_add_entry(struct vmcx *x, const struct vmcx_entry *e)
{
    if (x->ne == x->ae) {
        size_t a = x->ae ? x->ae * 2 : 256;
        struct vmcx_entry *n;

        if (x->ne >= HV_MAX_NODES) {
            BAD(x, e->foff, "more than %d keys", HV_MAX_NODES);
            return -1;
        }
        n = realloc(x->e, a * sizeof *n);
        if (n == NULL)
            return oom(x);
        x->e = n;
        x->ae = a;
    }
    x->e[x->ne++] = *e;
    return 0;
}

/* The entries of the key table T. */
static int
vmcx_entries(struct vmcx *x, const struct vmcx_ktable *t)
{
    uint32_t rel = VMCX_KT_HDR;

    while (rel < t->size) {
        const uint8_t *p = x->b + t->off + rel;
        uint64_t foff = t->off + rel;
        uint32_t left = t->size - rel, size;
        unsigned type, flags, name_len;
        struct vmcx_entry e = { .table = t->index, .off = rel, .foff = foff };
        size_t data_size, k;

        if (left < VMCX_KE_HDR) {
            for (k = 0; k < left; k++)
                if (p[k]) {
                    BAD(x, foff, "%" PRIu32 " bytes at the end of the key "
                        "table are too few for an entry", left);
                    return -1;
                }
            break;
        }
        type = p[0];
        flags = p[1];
        size = le32(p + 2);
        if (size == 0)
            break;
        if (size < VMCX_KE_HDR || size > left) {
            BAD(x, foff, "key entry of %" PRIu32 " bytes (%" PRIu32 " left "
                "in its table)", size, left);
            return -1;
        }
        rel += size;
        if (type == VMCX_KEY_FREE)
            continue;
        if (type < VMCX_KEY_INT || type > VMCX_KEY_NODE) {
            UNSUPPORTED(x, foff, "key type %u is not one vmconv knows", type);
            return -1;
        }
        if (flags & ~VMCX_FLAGS_KNOWN) {
            UNSUPPORTED(x, foff, "key flags 0x%02x are not ones vmconv knows",
                        flags);
            return -1;
        }
        name_len = p[20];
        if (name_len < 2 || VMCX_KE_HDR + name_len > size ||
            p[VMCX_KE_HDR + name_len - 1] != '\0' ||
            memchr(p + VMCX_KE_HDR, '\0', name_len - 1)) {
            BAD(x, foff, "key name of %u bytes is not a NUL-terminated "
                "name inside the entry", name_len);
            return -1;
        }
        e.node = hv_node_add(NULL, (const char *) p + VMCX_KE_HDR,
                             name_len - 1);
        if (e.node == NULL)
            return oom(x);
        snprintf(e.node->where, sizeof e.node->where, "offset 0x%" PRIx64,
                 foff);
        e.node->seq = le32(p + 16);
        e.node->order = x->ne;
        e.ptable = le16(p + 6);
        e.poff = le32(p + 8);
        e.is_node = type == VMCX_KEY_NODE;
        e.parent = SIZE_MAX;
        if (vmcx_add_entry(x, &e) == -1) {
            hv_tree_free(e.node);
            return -1;
        }
        if (vmcx_value(x, p, foff, size, type, flags, name_len, e.node,
                       &data_size) == -1)
            return -1;
        if (crc_without(p, data_size, 12) != le32(p + 12)) {
            BAD(x, foff, "key '%s': checksum 0x%08" PRIx32 " does not match "
                "the entry", e.node->name, le32(p + 12));
            return -1;
        }
    }
    return 0;
}

static int
cmp_entry_loc(const void *key, const void *elem)
{
    const struct vmcx_entry *k = key, *e = elem;

    if (k->ptable != e->table)
        return k->ptable < e->table ? -1 : 1;
    return k->poff < e->off ? -1 : k->poff > e->off;
}

static int
cmp_kids(const void *a, const void *b)
{
    const struct hv_node *x = *(struct hv_node *const *) a;
    const struct hv_node *y = *(struct hv_node *const *) b;

    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void
sort_kids(struct hv_node *n)
{
    size_t i;

    if (n->nr_kids > 1)
        qsort(n->kids, n->nr_kids, sizeof *n->kids, cmp_kids);
    for (i = 0; i < n->nr_kids; i++)
        sort_kids(n->kids[i]);
}

/* Link the entries to their parents under ROOT. */
static int
vmcx_link(struct vmcx *x, struct hv_node *root)
{
    size_t i;

    /* Entries are in (table index, offset) order: search them. */
    for (i = 0; i < x->ne; i++) {
        struct vmcx_entry *e = &x->e[i];
        const struct vmcx_entry *p;

        if (e->ptable == 0)
            continue;
        p = bsearch(e, x->e, x->ne, sizeof *x->e, cmp_entry_loc);
        if (p == NULL || !p->is_node) {
            BAD(x, e->foff, "key '%s': its parent (key table %u, offset 0x%"
                PRIx32 ") is not a node", e->node->name, e->ptable, e->poff);
            return -1;
        }
        e->parent = (size_t) (p - x->e);
    }
    for (i = 0; i < x->ne; i++) {
        size_t j = x->e[i].parent;
        unsigned depth = 0;

        while (j != SIZE_MAX) {
            if (++depth > HV_MAX_DEPTH) {
                BAD(x, x->e[i].foff, "key '%s': its parents form a loop or "
                    "nest deeper than %d", x->e[i].node->name, HV_MAX_DEPTH);
                return -1;
            }
            j = x->e[j].parent;
        }
    }
    for (i = 0; i < x->ne; i++) {
        struct vmcx_entry *e = &x->e[i];
        struct hv_node *parent = e->parent == SIZE_MAX ? root
                                                       : x->e[e->parent].node;

        if (hv_node_attach(parent, e->node) == -1)
            return oom(x);
        e->attached = true;
    }
    sort_kids(root);
    return 0;
}

struct hv_node *
vmcx_parse(struct vmc_handle *h, const void *buf, size_t len,
           const char *name)
{
    struct vmcx x = { .h = h, .name = name, .b = buf, .len = len };
    char why1[160], why2[160];
    const char *p1, *p2;
    uint64_t hdr;
    struct hv_node *root = NULL;
    uint32_t version;
    size_t i;

    p1 = vmcx_header_problem(&x, 0, why1, sizeof why1);
    p2 = vmcx_header_problem(&x, VMCX_HDR2_OFF, why2, sizeof why2);
    if (p1 && p2) {
        BAD(&x, 0, "%s (and the second header at 0x%x: %s)", p1,
            VMCX_HDR2_OFF, p2);
        return NULL;
    }
    if (p1)
        hdr = VMCX_HDR2_OFF;
    else if (p2)
        hdr = 0;
    else
        hdr = le16(x.b + 8) >= le16(x.b + VMCX_HDR2_OFF + 8) ? 0
                                                             : VMCX_HDR2_OFF;
    version = le32(x.b + hdr + 10);
    if (version != VMCX_VERSION) {
        UNSUPPORTED(&x, hdr + 10, "format version 0x%04" PRIx32 " (vmconv "
                    "reads 0x%04x, Hyper-V 2016 and later)", version,
                    VMCX_VERSION);
        return NULL;
    }
    x.align = le32(x.b + hdr + 22);
    if (x.align < 0x1000 || x.align > 0x10000 || (x.align & (x.align - 1))) {
        BAD(&x, hdr + 22, "data alignment 0x%" PRIx32 " is not a power of "
            "two from 0x1000 to 0x10000", x.align);
        return NULL;
    }
    if (vmcx_replay_log(&x, le64(x.b + hdr + 26), hdr + 26) == -1)
        goto out;
    if (vmcx_add_object(&x, VMCX_OBJ_EMPTY, 0, VMCX_OT_OFF) == -1 ||
        vmcx_object_tables(&x) == -1 || vmcx_no_overlap(&x) == -1 ||
        vmcx_key_tables(&x) == -1)
        goto out;
    if (x.nkt == 0) {
        BAD(&x, VMCX_OT_OFF, "the object table lists no key table");
        goto out;
    }
    qsort(x.kt, x.nkt, sizeof *x.kt, cmp_ktable);
    for (i = 0; i < x.nkt; i++)
        if (vmcx_entries(&x, &x.kt[i]) == -1)
            goto out;
    root = hv_node_add(NULL, "", 0);
    if (root == NULL) {
        oom(&x);
        goto out;
    }
    if (vmcx_link(&x, root) == -1) {
        hv_tree_free(root);
        root = NULL;
    }
 out:
    for (i = 0; i < x.ne; i++)
        if (!x.e[i].attached)
            hv_tree_free(x.e[i].node);
    free(x.e);
    free(x.kt);
    free(x.obj);
    return root;
}
