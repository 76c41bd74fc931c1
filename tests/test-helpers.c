/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the public helpers for plugins (vmconv/util.h):
 * reading files with their length, UTF-16, foreign names under the
 * path policy, value parsing, the safe XML reader and digests.
 */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/tree.h>

#include <vmconv/util.h>

#include "internal.h"

static struct vmc_handle *h;
static char tmpdir[PATH_MAX];

static void
setup(void)
{
    h = vmc_new();
    snprintf(tmpdir, sizeof tmpdir, "%s/vmconv-helpers.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
    char cmd[PATH_MAX + 16];

    vmc_free(h);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write LEN bytes of DATA to TMPDIR/NAME (directories made as needed);
 * returns the path (static buffer rotation of 4).
 */
static const char *
put(const char *name, const void *data, size_t len)
{
    static char paths[4][2 * PATH_MAX];
    static int n;
    char *p = paths[n++ % 4];
    char *slash;
    FILE *fp;

    snprintf(p, 2 * PATH_MAX, "%s/%s", tmpdir, name);
    for (slash = strchr(p + strlen(tmpdir) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(p, 0755);
        *slash = '/';
    }
    fp = fopen(p, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
    return p;
}

static void
assert_error_has(const char *want)
{
    const char *e = vmc_get_error(h);

    ck_assert_msg(e != NULL && strstr(e, want) != NULL,
                  "error '%s' does not contain '%s'", e ? e : "(none)", want);
}

/* ---- Files ---------------------------------------------------------- */

START_TEST(test_write_file_new)
{
    static const char data[] = "name = \"web01\"\n\0binary";
    char path[PATH_MAX + 16], link[PATH_MAX + 16];
    size_t len = 0;
    char *buf;

    snprintf(path, sizeof path, "%s/new.cfg", tmpdir);
    ck_assert_int_eq(vmc_write_file_new(h, path, data, sizeof data), 0);
    buf = vmc_read_file_len(h, path, 1000, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, sizeof data);
    ck_assert_mem_eq(buf, data, sizeof data);
    free(buf);

    /* Never overwrites: an existing file is refused and kept. */
    ck_assert_int_eq(vmc_write_file_new(h, path, "x", 1), -1);
    assert_error_has("new.cfg: File exists");
    buf = vmc_read_file_len(h, path, 1000, &len);
    ck_assert_uint_eq(len, sizeof data);
    free(buf);

    /* Nor writes through a symbolic link, even a dangling one. */
    snprintf(link, sizeof link, "%s/link.cfg", tmpdir);
    ck_assert_int_eq(symlink("nowhere.cfg", link), 0);
    ck_assert_int_eq(vmc_write_file_new(h, link, "x", 1), -1);
    assert_error_has("link.cfg");
    snprintf(path, sizeof path, "%s/nowhere.cfg", tmpdir);
    ck_assert_int_eq(access(path, F_OK), -1);

    /* A directory that is not there: an error naming the path. */
    snprintf(path, sizeof path, "%s/no/such/dir.cfg", tmpdir);
    ck_assert_int_eq(vmc_write_file_new(h, path, "x", 1), -1);
    assert_error_has("no/such/dir.cfg");
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_IO);
}
END_TEST

START_TEST(test_read_file_len_binary)
{
    static const char data[] = "ab\0cd\xff";
    const char *f = put("bin", data, 6);
    size_t len = 0;
    char *buf;

    buf = vmc_read_file_len(h, f, 100, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 6);
    ck_assert_mem_eq(buf, data, 6);
    ck_assert_int_eq(buf[6], 0);
    free(buf);

    /* vmc_read_file refuses the NUL, naming file and offset. */
    ck_assert_ptr_null(vmc_read_file(h, f, 100));
    assert_error_has("bin: not a text file (NUL byte at offset 2)");

    /* Over the limit, a directory, a FIFO. */
    ck_assert_ptr_null(vmc_read_file_len(h, f, 5, &len));
    assert_error_has("bin: file is 6 bytes, more than the 5 allowed");
    ck_assert_ptr_null(vmc_read_file_len(h, tmpdir, 100, &len));
    assert_error_has("not a regular file");
    {
        char fifo[PATH_MAX + 8];

        snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        /* Must not block waiting for a writer. */
        ck_assert_ptr_null(vmc_read_file_len(h, fifo, 100, &len));
        assert_error_has("fifo: not a regular file");
    }
    {
        const char *e = put("empty", "", 0);

        buf = vmc_read_file_len(h, e, 100, &len);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(len, 0);
        free(buf);
    }
}
END_TEST

/* ---- UTF-16 ---------------------------------------------------------- */

START_TEST(test_utf16)
{
    /* "aé€😀" little-endian: 61 00, e9 00, ac 20, 3d d8 00 de */
    static const uint8_t le[] = { 0x61, 0, 0xe9, 0, 0xac, 0x20,
                                  0x3d, 0xd8, 0x00, 0xde };
    static const uint8_t be[] = { 0, 0x61, 0, 0xe9, 0x20, 0xac,
                                  0xd8, 0x3d, 0xde, 0x00 };
    static const uint8_t bom_be[] = { 0xfe, 0xff, 0, 0x61 };
    static const uint8_t bom_le[] = { 0xff, 0xfe, 0x61, 0 };
    static const uint8_t padded[] = { 0x61, 0, 0x62, 0, 0, 0, 0x63, 0 };
    static const uint8_t lone_hi[] = { 0x61, 0, 0x3d, 0xd8 };
    static const uint8_t lone_lo[] = { 0x00, 0xde, 0x61, 0 };
    static const char want[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    size_t n;
    char *s;

    s = vmc_utf16_to_utf8(h, le, sizeof le, VMC_UTF16_LE, 0, "x", &n);
    ck_assert_str_eq(s, want);
    ck_assert_uint_eq(n, strlen(want));
    free(s);
    s = vmc_utf16_to_utf8(h, be, sizeof be, VMC_UTF16_BE, 0, "x", NULL);
    ck_assert_str_eq(s, want);
    free(s);

    /* BOM: honoured and dropped only when asked. */
    s = vmc_utf16_to_utf8(h, bom_be, sizeof bom_be, VMC_UTF16_BOM_LE, 0,
                          "x", NULL);
    ck_assert_str_eq(s, "a");
    free(s);
    s = vmc_utf16_to_utf8(h, bom_le, sizeof bom_le, VMC_UTF16_BOM_BE, 0,
                          "x", NULL);
    ck_assert_str_eq(s, "a");
    free(s);
    s = vmc_utf16_to_utf8(h, bom_le, sizeof bom_le, VMC_UTF16_LE, 0,
                          "x", NULL);
    ck_assert_str_eq(s, "\xef\xbb\xbf" "a");
    free(s);

    /* NUL: stops with the flag, an error without. */
    s = vmc_utf16_to_utf8(h, padded, sizeof padded, VMC_UTF16_LE,
                          VMC_UTF16_STOP_AT_NUL, "x", &n);
    ck_assert_str_eq(s, "ab");
    ck_assert_uint_eq(n, 2);
    free(s);
    ck_assert_ptr_null(vmc_utf16_to_utf8(h, padded, sizeof padded,
                                         VMC_UTF16_LE, 0, "f: name", NULL));
    assert_error_has("f: name: invalid UTF-16 (NUL at byte offset 4)");

    /* Unpaired surrogates and odd lengths, naming WHAT. */
    ck_assert_ptr_null(vmc_utf16_to_utf8(h, lone_hi, sizeof lone_hi,
                                         VMC_UTF16_LE, 0, "f: key", NULL));
    assert_error_has("f: key: invalid UTF-16 (unpaired surrogate d83d at "
                     "byte offset 2)");
    ck_assert_ptr_null(vmc_utf16_to_utf8(h, lone_lo, sizeof lone_lo,
                                         VMC_UTF16_LE, 0, "f: key", NULL));
    assert_error_has("unpaired surrogate de00 at byte offset 0");
    ck_assert_ptr_null(vmc_utf16_to_utf8(h, le, 3, VMC_UTF16_LE, 0, "f: v",
                                         NULL));
    assert_error_has("f: v: invalid UTF-16 (odd length of 3 bytes)");

    /* Without a handle: NULL and no error. */
    vmc_clear_error(h);
    ck_assert_ptr_null(vmc_utf16_to_utf8(NULL, lone_hi, sizeof lone_hi,
                                         VMC_UTF16_LE, 0, "x", NULL));
    ck_assert_ptr_null(vmc_get_error(h));

    s = vmc_utf16_to_utf8(h, le, 0, VMC_UTF16_LE, 0, "x", &n);
    ck_assert_str_eq(s, "");
    ck_assert_uint_eq(n, 0);
    free(s);
}
END_TEST

/* ---- Foreign names --------------------------------------------------- */

START_TEST(test_resolve_foreign_name)
{
    static const struct {
        const char *name;
        unsigned flags;
        const char *want;       /* relative to base, "/..." = absolute
                                   below tmpdir, NULL = missing */
        const char *error;      /* substring of the error, or NULL */
    } cases[] = {
        { "vm.vmdk", 0, "vm.vmdk", NULL },
        { "VM.VMDK", 0, "vm.vmdk", NULL },
        { "./vm.vmdk", 0, "vm.vmdk", NULL },
        { "[datastore1] vm/vm.vmdk", 0, "vm/vm.vmdk", NULL },
        { "[datastore1] other/vm.vmdk", 0, "vm.vmdk", NULL },
        { "[datastore1]vm/vm.vmdk", 0, "vm/vm.vmdk", NULL },
        { "/vmfs/volumes/5f1e2d3c-aabbccdd-1122-334455667788/vm/vm.vmdk", 0,
          "vm/vm.vmdk", NULL },
        { "/vmfs/volumes/datastore1/elsewhere/VM.vmdk", 0, "vm.vmdk", NULL },
        { "C:\\Hyper-V\\Virtual Hard Disks\\x.VHDX", 0, "x.vhdx", NULL },
        { "c:/Hyper-V/x.vhdx", 0, "x.vhdx", NULL },
        { "D:\\vm\\vm.vmdk", 0, "vm/vm.vmdk", NULL },
        { "\\\\srv\\share\\x.vhd", 0, "x.vhd", NULL },
        { "\\\\srv\\share\\VM\\VM.VMDK", 0, "vm/vm.vmdk", NULL },
        { "\\\\?\\Volume{0a1b2c3d-0000-0000-0000-000000000000}\\d\\x.vhdx", 0,
          "x.vhdx", NULL },
        { "sub\\child.vmdk", 0, "sub/child.vmdk", NULL },
        { "SUB/CHILD.VMDK", 0, "sub/child.vmdk", NULL },
        { "/nonexistent/dir/vm.vmdk", 0, "vm.vmdk", NULL },
        { "..\\outside.raw", 0, NULL, "leads outside the directory" },
        { "../outside.raw", VMC_FOREIGN_ALLOW_OUTSIDE, "../outside.raw",
          NULL },
        { "sub/../../outside.raw", 0, NULL, "leads outside" },
        { "link-out", 0, NULL, "leads outside" },
        { "link-out", VMC_FOREIGN_ALLOW_OUTSIDE, "link-out", NULL },
        { "link-in", 0, "link-in", NULL },
        { "/outside.raw", 0, NULL, "leads outside" },
        { "/outside.raw", VMC_FOREIGN_ALLOW_OUTSIDE, "/outside.raw", NULL },
        { "missing.vmdk", VMC_FOREIGN_MISSING_OK, NULL, NULL },
        { "missing.vmdk", 0, NULL, "what 'missing.vmdk' not found (tried "
          "'missing.vmdk' in " },
        { "C:\\vm\\missing.vhdx", VMC_FOREIGN_MISSING_OK, NULL, NULL },
        { "C:\\vm\\missing.vhdx", 0, NULL, "not found (tried 'vm/missing.vhdx', "
          "'missing.vhdx' in " },
        { "Amb.vhd", 0, NULL, "matches both" },
        { "", 0, NULL, "what is empty" },
        { "[ds]", VMC_FOREIGN_MISSING_OK, NULL, NULL },
    };
    char base[PATH_MAX + 8], other[PATH_MAX + 32];
    size_t i;

    put("base/vm.vmdk", "v", 1);
    put("base/vm/vm.vmdk", "v", 1);
    put("base/x.vhdx", "x", 1);
    put("base/x.vhd", "x", 1);
    put("base/sub/child.vmdk", "c", 1);
    put("base/amb.VHD", "a", 1);
    put("base/AMB.vhd", "a", 1);
    put("outside.raw", "o", 1);
    snprintf(base, sizeof base, "%s/base", tmpdir);
    snprintf(other, sizeof other, "%s/base/link-out", tmpdir);
    ck_assert_int_eq(symlink("../outside.raw", other), 0);
    snprintf(other, sizeof other, "%s/base/link-in", tmpdir);
    ck_assert_int_eq(symlink("vm/vm.vmdk", other), 0);

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *name = cases[i].name;
        char namebuf[PATH_MAX + 32], want[2 * PATH_MAX];
        char *local = (char *) "unset";
        int r;

        /* "/outside.raw" stands for the absolute path of that file. */
        if (strcmp(name, "/outside.raw") == 0) {
            snprintf(namebuf, sizeof namebuf, "%s/outside.raw", tmpdir);
            name = namebuf;
        }
        vmc_clear_error(h);
        r = vmc_resolve_foreign_name(h, name, base, cases[i].flags, "what",
                                     &local);
        if (cases[i].error) {
            ck_assert_msg(r == -1, "case %zu '%s': succeeded", i, name);
            ck_assert_ptr_null(local);
            assert_error_has(cases[i].error);
            continue;
        }
        ck_assert_msg(r == 0, "case %zu '%s': %s", i, name,
                      vmc_get_error(h));
        ck_assert_ptr_null(vmc_get_error(h));
        if (cases[i].want == NULL) {
            ck_assert_msg(local == NULL, "case %zu '%s': found %s", i, name,
                          local);
            continue;
        }
        if (cases[i].want[0] == '/')
            snprintf(want, sizeof want, "%s%s", tmpdir, cases[i].want);
        else
            snprintf(want, sizeof want, "%s/%s", base, cases[i].want);
        ck_assert_msg(local && strcmp(local, want) == 0,
                      "case %zu '%s': got %s, want %s", i, name,
                      local ? local : "NULL", want);
        free(local);
    }

    /* An outside refusal carries the hint, not an option name. */
    vmc_resolve_foreign_name(h, "link-out", base, 0, "what", &(char *){ 0 });
    ck_assert_int_eq(vmc_get_error_hint(h), VMC_HINT_ALLOW_OUTSIDE);
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_BAD_INPUT);
    ck_assert_ptr_null(strstr(vmc_get_error(h), "--"));
    /* The next error has no hint until one is set. */
    vmc_error(h, "another");
    ck_assert_int_eq(vmc_get_error_hint(h), VMC_HINT_NONE);
    vmc_clear_error(h);
    vmc_set_error_hint(h, VMC_HINT_ALLOW_OUTSIDE);
    ck_assert_int_eq(vmc_get_error_hint(h), VMC_HINT_NONE);
}
END_TEST

/* ---- Parsing values -------------------------------------------------- */

START_TEST(test_parse_values)
{
    uint64_t v;
    bool b;

    ck_assert_int_eq(vmc_parse_bool(h, "w", "Yes", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(vmc_parse_bool(h, "w", "off", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(vmc_parse_bool(h, "w", "0", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(vmc_parse_bool(h, "vm.vmx: line 3: x", "maybe", &b), -1);
    assert_error_has("vm.vmx: line 3: x: 'maybe' is not a boolean");

    ck_assert_int_eq(vmc_parse_uint(h, "w", "4096", 4096, &v), 0);
    ck_assert(v == 4096);
    ck_assert_int_eq(vmc_parse_uint(h, "w", "18446744073709551615",
                                    UINT64_MAX, &v), 0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(vmc_parse_uint(h, "k: numvcpus", "4097", 4096, &v), -1);
    assert_error_has("k: numvcpus: '4097' is more than 4096");
    ck_assert_int_eq(vmc_parse_uint(h, "w", "18446744073709551616",
                                    UINT64_MAX, &v), -1);
    assert_error_has("is more than 18446744073709551615");
    ck_assert_int_eq(vmc_parse_uint(h, "w", "99999x", 10, &v), -1);
    assert_error_has("w: '99999x' is not a number");
    ck_assert_int_eq(vmc_parse_uint(h, "w", "-1", 10, &v), -1);
    assert_error_has("'-1' is not a number");
    ck_assert_int_eq(vmc_parse_uint(h, "w", "", 10, &v), -1);
    ck_assert_int_eq(vmc_parse_uint(h, "w", " 1", 10, &v), -1);

    ck_assert_int_eq(vmc_parse_size_what(h, "w", "64K", &v), 0);
    ck_assert(v == 65536);
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "2GiB", &v), 0);
    ck_assert(v == 2ull << 30);
    ck_assert_int_eq(vmc_parse_size_what(h, "f: line 2: memory", "lots", &v),
                     -1);
    assert_error_has("f: line 2: memory: 'lots' is not a size");
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "99999999999T", &v), -1);
    assert_error_has("w: '99999999999T' is too large");
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "8P", &v), 0);
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "8192P", &v), -1);
    assert_error_has("is too large");
    ck_assert_int_eq(vmc_parse_size_what(h, "w", " 1", &v), -1);
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "+1", &v), -1);
    ck_assert_int_eq(vmc_parse_size_what(h, "w", "1X", &v), -1);
    assert_error_has("'1X' is not a size");
}
END_TEST

/* ---- XML ------------------------------------------------------------- */

/* A listening TCP socket on 127.0.0.1; *PORT receives its port. */
static int
listener(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void
assert_no_connection(int fd)
{
    int c = accept(fd, NULL, NULL);

    ck_assert_msg(c == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
                  "the XML parser connected to the network");
    close(fd);
}

START_TEST(test_xml_xxe)
{
    const char *secret = put("secret", "TOPSECRET", 9);
    char doc[PATH_MAX + 200];
    xmlDocPtr d;

    snprintf(doc, sizeof doc, "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE r [\n<!ENTITY x SYSTEM \"file://%s\">\n]>\n"
             "<r>&x;</r>\n", secret);
    d = vmc_xml_read_memory(h, doc, strlen(doc), "xxe.xml");
    ck_assert_ptr_null(d);
    assert_error_has("xxe.xml: line 3: the document declares entities");
    ck_assert_int_eq(vmc_get_error_kind(h), VMC_ERR_BAD_INPUT);
    ck_assert_ptr_null(strstr(vmc_get_error(h), "TOPSECRET"));
}
END_TEST

START_TEST(test_xml_billion_laughs)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<lolz>&lol9;</lolz>\n";
    struct timespec t0, t1;
    xmlDocPtr d;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    d = vmc_xml_read_memory(h, doc, sizeof doc - 1, "lol.xml");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_ptr_null(d);
    assert_error_has("lol.xml: line 3: the document declares entities");
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);
}
END_TEST

START_TEST(test_xml_no_network)
{
    char doc[512];
    int fd, port;
    xmlDocPtr d;

    /* An external DTD is not fetched; the document itself is fine. */
    fd = listener(&port);
    snprintf(doc, sizeof doc, "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE r SYSTEM \"http://127.0.0.1:%d/evil.dtd\">\n"
             "<r a=\"1\"/>\n", port);
    d = vmc_xml_read_memory(h, doc, strlen(doc), "dtd.xml");
    ck_assert_msg(d != NULL, "%s", vmc_get_error(h));
    ck_assert_str_eq((const char *) xmlDocGetRootElement(d)->name, "r");
    xmlFreeDoc(d);
    assert_no_connection(fd);

    /* An external parameter entity: refused, not fetched. */
    fd = listener(&port);
    snprintf(doc, sizeof doc, "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE r [<!ENTITY %% p SYSTEM "
             "\"http://127.0.0.1:%d/p.dtd\"> %%p;]>\n<r/>\n", port);
    ck_assert_ptr_null(vmc_xml_read_memory(h, doc, strlen(doc), "pe.xml"));
    assert_error_has("pe.xml: line 2: the document declares entities");
    assert_no_connection(fd);
}
END_TEST

START_TEST(test_xml_errors_and_limits)
{
    static const char bad[] = "<a>\n<b>\n</a>\n";
    static const char good[] = "<a><b>x &amp; y</b></a>\n";
    const char *f = put("bad.xml", bad, sizeof bad - 1);
    const char *g = put("good.xml", good, sizeof good - 1);
    char want[PATH_MAX + 32];
    xmlDocPtr d;

    ck_assert_ptr_null(vmc_xml_read_file(h, f, 1000));
    snprintf(want, sizeof want, "%s: line 3: ", f);
    assert_error_has(want);

    ck_assert_ptr_null(vmc_xml_read_file(h, g, 10));
    assert_error_has("more than the 10 allowed");

    d = vmc_xml_read_file(h, g, 1000);
    ck_assert_ptr_nonnull(d);
    xmlFreeDoc(d);

    ck_assert_ptr_null(vmc_xml_read_memory(h, "", 0, "empty.xml"));
    assert_error_has("empty.xml: line ");
}
END_TEST

START_TEST(test_xml_utf16)
{
    /* "<r>é</r>" as UTF-16LE with a BOM, built here. */
    static const char text[] = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
        "<r>\xe9</r>";
    uint8_t buf[2 * sizeof text + 2];
    const char *corpus = getenv("VMCONV_CORPUS");
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX];
    struct stat st;
    xmlNodePtr root;
    xmlChar *content;
    size_t i, n = 0;
    xmlDocPtr d;

    buf[n++] = 0xff;
    buf[n++] = 0xfe;
    for (i = 0; i < sizeof text - 1; i++) {
        buf[n++] = (uint8_t) text[i];
        buf[n++] = 0;
    }
    d = vmc_xml_read_memory(h, buf, n, "utf16.xml");
    ck_assert_msg(d != NULL, "%s", vmc_get_error(h));
    content = xmlNodeGetContent(xmlDocGetRootElement(d));
    ck_assert_str_eq((const char *) content, "\xc3\xa9");
    xmlFree(content);
    xmlFreeDoc(d);

    /* Hyper-V 2012 R2 writes its configurations in UTF-16: the file is
     * in tests/data/corpus, or in the shared corpus.
     */
    path[0] = '\0';
    if (top != NULL && *top != '\0')
        snprintf(path, sizeof path, "%s/tests/data/corpus/hyperv/"
                 "nswanberg-2012R2Min-vm-utf16.XML", top);
    if ((path[0] == '\0' || stat(path, &st) == -1) &&
        corpus != NULL && *corpus != '\0')
        snprintf(path, sizeof path,
                 "%s/hyperv/nswanberg-2012R2Min-vm-utf16.XML", corpus);
    if (path[0] == '\0')
        return;
    if (stat(path, &st) == -1) {
        fprintf(stderr, "test-helpers: %s missing: UTF-16 corpus check "
                "not run\n", path);
        return;
    }
    d = vmc_xml_read_file(h, path, 16 * 1024 * 1024);
    ck_assert_msg(d != NULL, "%s", vmc_get_error(h));
    root = xmlDocGetRootElement(d);
    ck_assert_str_eq((const char *) root->name, "configuration");
    xmlFreeDoc(d);
}
END_TEST

/* ---- Digests --------------------------------------------------------- */

START_TEST(test_digest_vectors)
{
    static const struct {
        enum vmc_digest kind;
        const char *in;
        size_t repeat;
        const char *hex;
    } v[] = {
        { VMC_DIGEST_SHA1, "abc", 1,
          "a9993e364706816aba3e25717850c26c9cd0d89d" },
        { VMC_DIGEST_SHA1, "", 1,
          "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
        { VMC_DIGEST_SHA1, "a", 1000000,
          "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
        { VMC_DIGEST_SHA256, "abc", 1,
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { VMC_DIGEST_SHA256, "", 1,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { VMC_DIGEST_SHA256, "a", 1000000,
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
    };
    char hex[VMC_DIGEST_HEX_MAX];
    size_t i, j;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct vmc_digest_ctx *c = vmc_digest_new(h, v[i].kind);

        ck_assert_ptr_nonnull(c);
        for (j = 0; j < v[i].repeat; j++)
            vmc_digest_update(c, v[i].in, strlen(v[i].in));
        vmc_digest_final(c, hex);
        ck_assert_str_eq(hex, v[i].hex);
    }
    ck_assert_str_eq(vmc_digest_name(VMC_DIGEST_SHA256), "SHA256");
    ck_assert_int_eq(vmc_digest_from_name("sha1"), VMC_DIGEST_SHA1);
    ck_assert_int_eq(vmc_digest_from_name("MD5"), -1);
    ck_assert_ptr_null(vmc_digest_new(h, VMC_DIGEST_LAST));
    vmc_digest_free(NULL);
    vmc_digest_free(vmc_digest_new(h, VMC_DIGEST_SHA1));
}
END_TEST

/* The file digest agrees with sha1sum and sha256sum over a file of a
 * few MiB (several read buffers, not a multiple of the block size).
 */
START_TEST(test_digest_file)
{
    static const char *const tools[] = { "sha1sum", "sha256sum" };
    size_t len = 3 * 1024 * 1024 + 12345, i;
    uint8_t *data = malloc(len);
    char hex[VMC_DIGEST_HEX_MAX], cmd[PATH_MAX + 64], out[200];
    const char *f;
    int k;

    ck_assert_ptr_nonnull(data);
    for (i = 0; i < len; i++)
        data[i] = (uint8_t) (i * 2654435761u >> 13);
    f = put("big.bin", data, len);
    free(data);
    for (k = 0; k < 2; k++) {
        FILE *p;

        ck_assert_int_eq(vmc_digest_file(h, (enum vmc_digest) k, f, hex), 0);
        snprintf(cmd, sizeof cmd, "%s '%s'", tools[k], f);
        p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
        ck_assert_int_eq(pclose(p), 0);
        out[strcspn(out, " ")] = '\0';
        ck_assert_str_eq(hex, out);
    }
    ck_assert_int_eq(vmc_digest_file(h, VMC_DIGEST_SHA1, tmpdir, hex), -1);
    assert_error_has("not a regular file");
    snprintf(cmd, sizeof cmd, "%s/none", tmpdir);
    ck_assert_int_eq(vmc_digest_file(h, VMC_DIGEST_SHA1, cmd, hex), -1);
    assert_error_has("none: No such file");
}
END_TEST

static Suite *
helpers_suite(void)
{
    Suite *s = suite_create("helpers");
    TCase *tc = tcase_create("helpers");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_read_file_len_binary);
    tcase_add_test(tc, test_write_file_new);
    tcase_add_test(tc, test_utf16);
    tcase_add_test(tc, test_resolve_foreign_name);
    tcase_add_test(tc, test_parse_values);
    tcase_add_test(tc, test_xml_xxe);
    tcase_add_test(tc, test_xml_billion_laughs);
    tcase_add_test(tc, test_xml_no_network);
    tcase_add_test(tc, test_xml_errors_and_limits);
    tcase_add_test(tc, test_xml_utf16);
    tcase_add_test(tc, test_digest_vectors);
    tcase_add_test(tc, test_digest_file);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(helpers_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
