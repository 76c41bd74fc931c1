/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "HyperVStorage" container reader of the hyperv plugin
 * (plugins/hyperv/vmcx.c), tested alone:
 *
 *  - the corpus' .VMRS (Fox-IT dissect's test file, AGPL: read from the
 *    shared corpus only, skipped when absent) parsed key by key against
 *    values checked by hand: the dump of its two key tables by an
 *    independent Python reading of the spec notes, and the values
 *    dissect's own test asserts (properties/version 2304, the VDEVVersion
 *    of three devices, the metrics' GUIDs and type codes);
 *  - a container built here (headers, object table, key table, a file
 *    object, a replay log), read back;
 *  - hostile variants of it (each damage made with the checksums fixed
 *    afterwards, so the check behind them is reached): one error naming
 *    the file and the offset each;
 *  - every truncation of it, and random damage with and without the
 *    checksums fixed: no crash, one error or a tree.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <vmconv/plugin.h>

#include "../plugins/hyperv/hv.h"

static struct vmc_handle *h;

static void
setup(void)
{
    h = vmc_new();
    ck_assert_ptr_nonnull(h);
}

static void
teardown(void)
{
    vmc_free(h);
    h = NULL;
}

/* ---- Writing a container -------------------------------------------------- */

#define IMG_SIZE 0x7000u
#define KT_OFF   0x3000u
#define FO_OFF   0x4000u
#define RL_OFF   0x5000u
#define KT2_OFF  0x6000u

static uint8_t img[IMG_SIZE];
static size_t kt_pos;
/* Where the builder put things (offsets in their key table). */
static uint32_t e_config, e_props, e_name, e_version, e_notes, e_flag,
    e_sub, e_data;

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t) v);
    put16(p + 2, (uint16_t) (v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t) v);
    put32(p + 4, (uint32_t) (v >> 32));
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
           (uint32_t) p[3] << 24;
}

static uint32_t
crc_z(const uint8_t *p, size_t len, size_t ck)
{
    uint8_t tmp[4096];

    ck_assert(len <= sizeof tmp);
    memcpy(tmp, p, len);
    memset(tmp + ck, 0, 4);
    return (uint32_t) crc32(0, tmp, (uInt) len);
}

/* The bytes an entry's checksum covers (as the reader computes them). */
static size_t
entry_data_size(const uint8_t *e, size_t size)
{
    unsigned type = e[0], flags = e[1], nl = e[20];
    size_t v = 21 + nl;

    if (v > size)
        return 0;
    if (flags & 1)
        return v + 12;
    switch (type) {
    case 9: return v + 12;
    case 3: case 4: case 5: return v + 8;
    case 8: return v + 4;
    case 6: case 7:
        if (v + 4 > size)
            return 0;
        return v + 4 + get32(e + v);
    }
    return 0;
}

/* Recompute every checksum the reader checks, where the structure
 * still allows finding it.
 */
static void
fixup(uint8_t *b, size_t len)
{
    uint32_t n, i;
    uint64_t rl;
    size_t o;

    if (len >= 46)
        put32(b + 4, crc_z(b, 46, 4));
    if (len >= 0x1000 + 46)
        put32(b + 0x1004, crc_z(b + 0x1000, 46, 4));
    rl = len >= 34 ? (uint64_t) get32(b + 26) : 0;
    if (rl && rl + 34 <= len)
        put32(b + rl + 4, crc_z(b + rl, 34, 4));
    if (len < 0x2008)
        return;
    n = get32(b + 0x2004);
    for (i = 0; i < n && i < 200 && 0x2008 + (i + 1) * 18 <= len; i++)
        put32(b + 0x2008 + i * 18 + 1, crc_z(b + 0x2008 + i * 18, 18, 1));
    for (o = KT_OFF; o <= KT2_OFF; o += KT2_OFF - KT_OFF) {
        size_t rel = 10;

        if (o + 0x1000 > len)
            continue;
        put32(b + o + 6, crc_z(b + o, 10, 6));
        while (rel + 21 <= 0x1000) {
            uint8_t *e = b + o + rel;
            uint32_t size = get32(e + 2);
            size_t ds;

            if (size < 21 || size > 0x1000 - rel)
                break;
            ds = entry_data_size(e, size);
            if (e[0] != 1 && ds >= 21 && ds <= size)
                put32(e + 12, crc_z(e, ds, 12));
            rel += size;
        }
    }
}

/* Append an entry to the key table at TABLE_OFF; returns its offset in
 * the table.
 */
static uint32_t
add_entry(uint8_t *table, unsigned type, unsigned flags, uint16_t ptable,
          uint32_t poff, uint32_t seq, const char *name, const void *value,
          size_t vlen)
{
    uint32_t at = (uint32_t) kt_pos;
    uint8_t *e = table + kt_pos;
    size_t nl = strlen(name) + 1, size = 21 + nl + vlen;

    ck_assert(kt_pos + size <= 0x1000);
    e[0] = (uint8_t) type;
    e[1] = (uint8_t) flags;
    put32(e + 2, (uint32_t) size);
    put16(e + 6, ptable);
    put32(e + 8, poff);
    put32(e + 16, seq);
    e[20] = (uint8_t) nl;
    memcpy(e + 21, name, nl);
    memcpy(e + 21 + nl, value, vlen);
    put32(e + 12, crc_z(e, size, 12));
    kt_pos += size;
    return at;
}

static size_t
utf16(const char *ascii, uint8_t *out)
{
    size_t i, n = strlen(ascii);

    for (i = 0; i < n; i++) {
        out[2 * i] = (uint8_t) ascii[i];
        out[2 * i + 1] = 0;
    }
    return 2 * n;
}

static void
object(unsigned i, unsigned type, uint64_t off, uint32_t size)
{
    uint8_t *e = img + 0x2008 + i * 18;

    e[0] = (uint8_t) type;
    put64(e + 5, off);
    put32(e + 13, size);
    e[17] = 1;
}

/* A container: configuration/{properties/{name, version, subtype,
 * notes (in a file object), flag}, data (bytes)}.
 */
static void
build(void)
{
    uint8_t *kt = img + KT_OFF, node[12] = { 0 }, v[64], s[600];
    size_t n;
    unsigned i;

    memset(img, 0, sizeof img);
    for (i = 0; i < 2; i++) {
        uint8_t *hd = img + i * 0x1000;

        put32(hd, 0x01282014);
        put16(hd + 8, (uint16_t) (7 - i));
        put32(hd + 10, 0x0400);
        put32(hd + 22, 0x1000);
        put64(hd + 26, RL_OFF);
        put64(hd + 34, 0x1000);
        put32(hd + 42, 0x1000);
    }
    put32(img + RL_OFF, 0x01110003);
    put32(img + RL_OFF + 13, 145);
    put32(img + 0x2000, 0x01110001);
    put32(img + 0x2004, 4);
    object(0, 2, KT_OFF, 0x1000);
    object(1, 3, FO_OFF, 0x1000);
    object(2, 4, KT2_OFF, 0x1000);
    /* entry 3: unallocated */

    put16(kt, 2);
    put16(kt + 2, 1);
    put16(kt + 4, 3);
    kt_pos = 10;
    put32(node + 8, 9);
    e_config = add_entry(kt, 9, 0, 0, 0, 1, "configuration", node, 12);
    e_props = add_entry(kt, 9, 0, 1, e_config, 1, "properties", node, 12);
    put32(v, 0);
    n = utf16("web01", v + 4);
    put32(v, (uint32_t) n);
    e_name = add_entry(kt, 0x206, 0, 1, e_props, 1, "name", v, 4 + n);
    put64(v, 2304);
    e_version = add_entry(kt, 3, 0, 1, e_props, 2, "version", v, 8);
    put64(v, 1);
    e_sub = add_entry(kt, 4, 0, 1, e_props, 3, "subtype", v, 8);
    /* notes: 2400 bytes of UTF-16 in the file object. */
    memset(s, 'n', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    n = utf16((const char *) s, img + FO_OFF);
    n = utf16((const char *) s, img + FO_OFF + n) + n;
    put32(v, (uint32_t) n);
    put64(v + 4, FO_OFF);
    e_notes = add_entry(kt, 6, 1, 1, e_props, 4, "notes", v, 12);
    put32(v, 1);
    e_flag = add_entry(kt, 8, 0, 1, e_props, 5, "flag", v, 4);
    put32(v, 3);
    memcpy(v + 4, "\x01\x02\x03", 3);
    e_data = add_entry(kt, 7, 0, 1, e_config, 2, "data", v, 7);
    /* The rest of the table: one free entry. */
    kt[kt_pos] = 1;
    put32(kt + kt_pos + 2, (uint32_t) (0x1000 - kt_pos));
    fixup(img, sizeof img);
}

static void
dump(const struct hv_node *n, char *out, size_t len)
{
    char buf[256];
    size_t i;

    switch (n->type) {
    case HV_NODE: snprintf(buf, sizeof buf, "%s{", n->name); break;
    case HV_INT: snprintf(buf, sizeof buf, "%s=%lld ", n->name, (long long) n->i); break;
    case HV_UINT: snprintf(buf, sizeof buf, "%s=u%llu ", n->name, (unsigned long long) n->u); break;
    case HV_BOOL: snprintf(buf, sizeof buf, "%s=%s ", n->name, n->b ? "true" : "false"); break;
    case HV_STRING: snprintf(buf, sizeof buf, "%s='%.20s'(%zu) ", n->name, n->s, strlen(n->s)); break;
    case HV_BYTES: snprintf(buf, sizeof buf, "%s=#%zu ", n->name, n->len); break;
    case HV_DOUBLE: snprintf(buf, sizeof buf, "%s=%g ", n->name, n->d); break;
    }
    strncat(out, buf, len - strlen(out) - 1);
    for (i = 0; i < n->nr_kids; i++)
        dump(n->kids[i], out, len);
    if (n->type == HV_NODE)
        strncat(out, "} ", len - strlen(out) - 1);
}

START_TEST(test_built)
{
    struct hv_node *t;
    char out[2048] = "";

    build();
    t = vmcx_parse(h, img, sizeof img, "t.vmcx");
    ck_assert_msg(t != NULL, "%s", vmc_get_error(h));
    dump(t, out, sizeof out);
    ck_assert_str_eq(out, "{configuration{properties{name='web01'(5) "
                     "version=2304 subtype=u1 "
                     "notes='nnnnnnnnnnnnnnnnnnnn'(1198) flag=true } "
                     "data=#3 } } ");
    ck_assert_str_eq(hv_str(t, "configuration/properties/name"), "web01");
    ck_assert_str_eq(hv_get(t, "Configuration/Properties/Version")->where,
                     "offset 0x308d");
    hv_tree_free(t);

    /* A bad first header: the second one is used. */
    build();
    img[4] ^= 1;
    t = vmcx_parse(h, img, sizeof img, "t.vmcx");
    ck_assert_msg(t != NULL, "%s", vmc_get_error(h));
    hv_tree_free(t);
}
END_TEST

/* DAMAGE applied to a fresh container (checksums fixed after it unless
 * RAW), then parsing fails with MSG.
 */
static void
fails(void (*damage)(void), bool raw, const char *msg)
{
    struct hv_node *t;

    build();
    damage();
    if (!raw)
        fixup(img, sizeof img);
    t = vmcx_parse(h, img, sizeof img, "t.vmcx");
    ck_assert_msg(t == NULL, "parsed, expected: %s", msg);
    ck_assert_str_eq(vmc_get_error(h), msg);
}

#define KE(off) (img + KT_OFF + (off))

static void d_sig(void) { img[0] = 'X'; img[0x1000] = 'X'; }
static void d_crc(void) { img[4] ^= 1; img[0x1004] ^= 1; }
static void d_version(void) { put32(img + 10, 0x0300); }
static void d_align(void) { put32(img + 22, 0x800); }
static void d_replay(void) { put32(img + RL_OFF + 8, 3); }
static void d_replay_off(void) { put64(img + 26, 0x100000); }
static void d_count(void) { put32(img + 0x2004, 0xffffffff); }
static void d_obj_off(void) { put64(img + 0x2008 + 5, 0x7000); }
static void d_obj_type(void) { img[0x2008 + 18 * 2] = 9; }
static void d_obj_loop(void) { object(2, 1, 0x2000, 0x1000); }
static void d_overlap(void) { object(2, 4, 0x3000, 0x2000); }
static void d_kt_sig(void) { put16(img + KT_OFF, 3); }
static void d_entry_size(void) { put32(KE(e_name) + 2, 0x10000); }
static void d_key_type(void) { KE(e_version)[0] = 2; }
static void d_key_flags(void) { KE(e_version)[1] = 0x80; }
static void d_parent_leaf(void) { put32(KE(e_flag) + 8, e_version); }
static void d_parent_nowhere(void) { put32(KE(e_flag) + 8, 0x77); }
static void d_parent_table(void) { put16(KE(e_flag) + 6, 9); }
static void d_cycle(void) { put16(KE(e_config) + 6, 1); put32(KE(e_config) + 8, e_props); }
static void d_strlen(void) { put32(KE(e_name) + 21 + 5, 0x400); }
static void d_utf16(void) { KE(e_name)[21 + 5 + 4 + 1] = 0xd8; }
static void d_fptr(void) { put64(KE(e_notes) + 21 + 6 + 4, 0x4800); }
static void d_fptr_size(void) { put32(KE(e_notes) + 21 + 6, 0x2000); }
static void d_name_nul(void) { KE(e_flag)[21 + 4] = 'x'; }
static void d_entry_crc(void) { KE(e_sub)[21 + 8] ^= 1; }
static void d_dup_table(void) { object(2, 2, KT2_OFF, 0x1000); memcpy(img + KT2_OFF, img + KT_OFF, 0x1000); }
static void d_no_table(void) { img[0x2008] = 4; }

START_TEST(test_hostile)
{
    fails(d_sig, false, "t.vmcx: offset 0x0: signature 0x01282058 is not "
          "0x01282014 (not a Hyper-V .vmcx / .vmrs file) (and the second "
          "header at 0x1000: signature 0x01282058 is not 0x01282014 (not a "
          "Hyper-V .vmcx / .vmrs file))");
    fails(d_crc, true, "t.vmcx: offset 0x0: header checksum 0x3eb53239 does "
          "not match its content (0x3eb53238) (and the second header at "
          "0x1000: header checksum 0xb33dcfdb does not match its content "
          "(0xb33dcfda))");
    fails(d_version, false, "t.vmcx: offset 0xa: format version 0x0300 "
          "(vmconv reads 0x0400, Hyper-V 2016 and later)");
    fails(d_align, false, "t.vmcx: offset 0x16: data alignment 0x800 is "
          "not a power of two from 0x1000 to 0x10000");
    fails(d_replay, false, "t.vmcx: offset 0x5000: the replay log holds 3 "
          "outstanding entries: the file was not closed cleanly and vmconv "
          "does not replay them; start the VM's host service (or import "
          "and export the VM) on Hyper-V, then try again");
    fails(d_replay_off, false, "t.vmcx: offset 0x1a: the replay log offset "
          "0x100000 is outside the file (28672 bytes)");
    fails(d_count, false, "t.vmcx: offset 0x2004: 4294967295 object table "
          "entries do not fit in the table (4096 bytes) or the file");
    fails(d_obj_off, false, "t.vmcx: offset 0x2008: object table entry 0: "
          "key table at 0x7000 of 4096 bytes is not aligned to 0x1000 "
          "inside the file (28672 bytes)");
    fails(d_obj_type, false, "t.vmcx: offset 0x202c: object table entry 2: "
          "object type 9 is not one vmconv knows");
    fails(d_obj_loop, false, "t.vmcx: offset 0x202c: object table entry 2: "
          "the object table at 0x2000 is chained twice (a loop)");
    fails(d_overlap, false, "t.vmcx: offset 0x3000: the free space here "
          "overlaps the key table at 0x3000");
    fails(d_kt_sig, false, "t.vmcx: offset 0x3000: key table signature "
          "0x0003 is not 0x0002");
    fails(d_entry_size, false, "t.vmcx: offset 0x3065: key entry of 65536 "
          "bytes (3995 left in its table)");
    fails(d_key_type, false, "t.vmcx: offset 0x308d: key type 2 is not one "
          "vmconv knows");
    fails(d_key_flags, false, "t.vmcx: offset 0x308d: key flags 0x80 are "
          "not ones vmconv knows");
    fails(d_parent_leaf, false, "t.vmcx: offset 0x30fe: key 'flag': its "
          "parent (key table 1, offset 0x8d) is not a node");
    fails(d_parent_nowhere, false, "t.vmcx: offset 0x30fe: key 'flag': its "
          "parent (key table 1, offset 0x77) is not a node");
    fails(d_parent_table, false, "t.vmcx: offset 0x30fe: key 'flag': its "
          "parent (key table 9, offset 0x39) is not a node");
    fails(d_cycle, false, "t.vmcx: offset 0x300a: key 'configuration': its "
          "parents form a loop or nest deeper than 64");
    fails(d_strlen, false, "t.vmcx: offset 0x3065: key 'name': a value of "
          "1028 bytes does not fit in the entry (14 bytes left)");
    fails(d_utf16, false, "t.vmcx: offset 0x3065: key 'name': invalid UTF-16 "
          "(unpaired surrogate d877 at byte offset 0)");
    fails(d_fptr, false, "t.vmcx: offset 0x30d7: key 'notes': 2396 bytes at "
          "0x4800 are not inside a file object");
    fails(d_fptr_size, false, "t.vmcx: offset 0x30d7: key 'notes': 8192 "
          "bytes at 0x4000 are not inside a file object");
    fails(d_name_nul, false, "t.vmcx: offset 0x30fe: key name of 5 bytes is "
          "not a NUL-terminated name inside the entry");
    fails(d_entry_crc, true, "t.vmcx: offset 0x30b2: key 'subtype': checksum "
          "0xf4465525 does not match the entry");
    fails(d_dup_table, false, "t.vmcx: offset 0x6000: two key tables have "
          "index 1 and sequence 3 (the other at 0x3000)");
    fails(d_no_table, false, "t.vmcx: offset 0x2000: the object table lists "
          "no key table");
}
END_TEST

START_TEST(test_truncated)
{
    size_t len;

    build();
    for (len = 0; len < sizeof img; len++) {
        struct hv_node *t = vmcx_parse(h, img, len, "t.vmcx");

        /* The last object (free space) ends the file: every truncation
         * cuts something the reader needs.
         */
        ck_assert_msg(t == NULL, "parsed at %zu bytes", len);
        ck_assert_msg(strncmp(vmc_get_error(h), "t.vmcx: offset 0x", 17) == 0,
                      "%zu: %s", len, vmc_get_error(h));
        vmc_clear_error(h);
    }
}
END_TEST

START_TEST(test_random)
{
    static uint8_t good[IMG_SIZE];
    unsigned i, parsed = 0;

    build();
    memcpy(good, img, sizeof img);
    srand(12345);
    for (i = 0; i < 20000; i++) {
        unsigned k, n = 1 + (unsigned) rand() % 8;
        struct hv_node *t;

        memcpy(img, good, sizeof img);
        for (k = 0; k < n; k++) {
            /* Mostly in the structures, sometimes anywhere. */
            size_t at = rand() % 4 ? 0x2000 + (size_t) rand() % 0x1200
                                   : (size_t) rand() % sizeof img;

            img[at] = (uint8_t) rand();
        }
        if (i % 2)
            fixup(img, sizeof img);
        t = vmcx_parse(h, img, sizeof img, "t.vmcx");
        if (t) {
            parsed++;
            hv_tree_free(t);
        }
        else
            ck_assert_msg(strncmp(vmc_get_error(h), "t.vmcx: ", 8) == 0,
                          "%s", vmc_get_error(h));
        vmc_clear_error(h);
    }
    /* Some damage leaves a readable file (bytes of free space). */
    ck_assert_uint_gt(parsed, 0);
}
END_TEST

/* ---- The corpus' .VMRS --------------------------------------------------- */

static size_t
count(const struct hv_node *n)
{
    size_t i, c = 1;

    for (i = 0; i < n->nr_kids; i++)
        c += count(n->kids[i]);
    return c;
}

START_TEST(test_corpus_vmrs)
{
    const char *corpus = getenv("VMCONV_CORPUS");
    char path[4096];
    void *buf;
    size_t len, i;
    struct hv_node *t;
    const struct hv_node *m, *dt, *di, *last = NULL;
    unsigned metrics = 0;

    snprintf(path, sizeof path, "%s/hyperv/dissect-test.VMRS",
             corpus ? corpus : "");
    if (corpus == NULL || access(path, R_OK) != 0) {
        printf("SKIP: part of the test: hyperv/dissect-test.VMRS is only in "
               "the shared corpus (not redistributable here), not found at "
               "%s\n", corpus ? corpus : "(VMCONV_CORPUS unset)");
        return;
    }
    buf = vmc_read_file_len(h, path, 1 << 20, &len);
    ck_assert_msg(buf != NULL, "%s", vmc_get_error(h));
    ck_assert_uint_eq(len, 45092);
    t = vmcx_parse(h, buf, len, "dissect-test.VMRS");
    ck_assert_msg(t != NULL, "%s", vmc_get_error(h));
    /* 113 keys in the two key tables, plus the nameless root. */
    ck_assert_uint_eq(count(t), 114);
    ck_assert_uint_eq(t->nr_kids, 1);
    ck_assert_int_eq(hv_get(t, "configuration/properties/version")->type,
                     HV_INT);
    ck_assert_int_eq(hv_get(t, "configuration/properties/version")->i, 2304);
    ck_assert_int_eq(hv_get(t, "configuration/_ac6b8dc1-3257-4a70-b1b2-"
                            "a9c9215659ad_/VDEVVersion")->i, 2048);
    ck_assert_int_eq(hv_get(t, "configuration/_e51b7ef6-4a7f-4780-aaae-"
                            "d4b291aacd2e_/VDEVVersion")->i, 512);
    ck_assert_int_eq(hv_get(t, "configuration/_83f8638b-8dca-4152-9eda-"
                            "2ca8b33039b4_/VDEVVersion")->i, 1792);
    ck_assert_str_eq(hv_get(t, "configuration/_83f8638b-8dca-4152-9eda-"
                            "2ca8b33039b4_/VDEVVersion")->where,
                     "offset 0x3be6");
    m = hv_get(t, "configuration/global_settings/metrics");
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->nr_kids, 3);
    ck_assert_str_eq(hv_str(m->kids[0], "guid"),
                     "B637F346-6A0E-4DEC-AF52-BD70CB80A21D");
    ck_assert_str_eq(hv_str(m->kids[1], "guid"),
                     "4764334D-E001-4176-82EE-5594EC9B530E");
    dt = m->kids[2];
    ck_assert_str_eq(hv_str(dt, "guid"),
                     "83F8638B-8DCA-4152-9EDA-2CA8B33039B4");
    di = hv_child(dt, "deviceinstance");
    ck_assert_str_eq(hv_str(di, "guid"),
                     "83F8638B-8DCA-4152-9EDA-2CA8B33039B4");
    /* Six metrics, three of them in key table 2, in insertion order. */
    for (i = 0; i < di->nr_kids; i++)
        if (strcmp(di->kids[i]->name, "metric") == 0) {
            metrics++;
            last = di->kids[i];
        }
    ck_assert_uint_eq(metrics, 6);
    ck_assert_str_eq(hv_str(last, "typecode"),
                     "4E1D459F-7861-46A4-887C-B64397C97E1B;0\\0\\L");
    ck_assert_str_eq(hv_str(last, "resourcetypeid"),
                     "70BB60D2-A9D3-46AA-B654-3DE53004B4F8");
    ck_assert_str_eq(hv_str(last, "poolid"), "");
    ck_assert_int_eq(hv_get(last, "enabled")->type, HV_BOOL);
    ck_assert(!hv_get(last, "enabled")->b);
    ck_assert_int_eq(hv_get(last, "value")->i, 0);
    ck_assert_str_eq(hv_str(di->kids[1], "typecode"),
                     "AD29978B-AAB6-44AE-81CD-0609BF929F18;0\\0\\L");
    hv_tree_free(t);
    free(buf);
}
END_TEST

static Suite *
vmcx_suite(void)
{
    Suite *s = suite_create("vmcx");
    TCase *tc = tcase_create("vmcx");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_built);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_corpus_vmrs);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vmcx_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
