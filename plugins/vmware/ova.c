/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: OVF packages, an OVA (tar, read with
 * libarchive) or a directory holding the .ovf, its .mf and its disks
 * (../shared/specs/ovf.md sections 1 and 4).
 *
 * An OVA is read in two passes.  The first lists the members, refusing
 * absolute names, "..", links, devices, duplicates and sparse members,
 * and reads the .ovf and the .mf.  The second, only when needed, reads
 * the data of the members the manifest lists (checking each digest)
 * and extracts what cannot be read in place.  All of it happens in
 * read, before anything is written, with one exception: when the
 * caller asks for it (VMC_READ_DEFER_DIGESTS, vmconv convert does), the
 * digests of the disks read in place (members of a stored tar, files
 * beside an .ovf; not gzip data, which is inflated here to check it)
 * are left to the caller with vmc_vm_add_digest instead of read whole
 * here: the conversion hashes them while it copies them, and keeps no
 * output unless they match.  vmconv inspect checks everything here.
 *
 * Disks are read IN PLACE in an uncompressed tar: a stored member is a
 * byte range of the OVA, and the disk's path in the model names it as
 * "range:OFFSET:LENGTH:/abs/x.ova", which vmc_disk_convert opens with
 * vmc_image_open_name.  A disk split into chunks (ovf:chunkSize:
 * HREF.000000000, HREF.000000001, ...) is the concatenation of its
 * chunks' ranges, "concat:N:OFF:LEN:PATHLEN:PATH:..." (chunks beside an
 * .ovf likewise, as whole files), checked here first: every chunk
 * present, in order in the tar, each of ovf:chunkSize bytes but the
 * last, adding up to ovf:size, each digest as the manifest says.  A
 * gzip-compressed file (ovf:compression="gzip") is read through an
 * inflating source, "gzip:range:..." or "gzip:concat:..." (or
 * "gzip:/abs/file" beside an .ovf): nothing is written.  Only what
 * cannot be read in place is extracted into the work directory
 * (registered with vmc_vm_add_tmpfile): members of a compressed tar
 * (.tar.gz, .tar.xz) or a zip (gzip-compressed ones inflated while they
 * are copied), and firmware variables.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <vmconv/convert.h>

#include "cleanup.h"
#include "ovf.h"

#define MF_MAX_SIZE        (1024u * 1024)
#define OVA_MAX_MEMBERS    65536
#define OVA_IO_SIZE        (1024u * 1024)
#define OVA_IN_PLACE_IO    (4u * 1024 * 1024)
/* The most an ISO (which has no declared capacity) may inflate to. */
#define OVA_MAX_INFLATED_ISO (UINT64_C(64) << 30)

/* One member of the package. */
struct pkg_member {
    char *name;                  /* as stored, without a leading "./" */
    uint64_t offset;             /* data offset in the OVA (in place) */
    uint64_t size;               /* stored bytes */
    char *local;                 /* extracted copy, or NULL */
    char *digest;                /* hex digest checked against the .mf,
                                    or NULL */
};

/* One manifest line. */
struct mf_entry {
    char *name;
    enum vmc_digest kind;
    char hex[VMC_DIGEST_HEX_MAX];
    bool checked;
    char *deferred;              /* left to the caller: the source name
                                    of its bytes */
};

struct pkg {
    struct vmc_handle *h;
    const struct vmc_read_options *opts;
    char *path;                  /* the OVA or the .ovf, absolute */
    bool is_dir;                 /* an .ovf beside its files */
    char *dir;                   /* (directory) the .ovf's directory */
    bool in_place;               /* (OVA) an uncompressed tar */
    char *prefix;                /* (OVA) folder of the .ovf: "" or "x/" */
    size_t nr_members;
    struct pkg_member *members;
    char *ovf_name;              /* (OVA) the .ovf member */
    void *ovf_buf;
    size_t ovf_len;
    char *mf_name;
    bool has_cert;               /* a .cert (signature) beside the .mf */
    size_t nr_mf;
    struct mf_entry *mf;
    struct ovf_desc desc;
};

static void
pkg_free(struct pkg *p)
{
    size_t i;

    free(p->path);
    free(p->dir);
    free(p->prefix);
    for (i = 0; i < p->nr_members; i++) {
        free(p->members[i].name);
        free(p->members[i].local);
        free(p->members[i].digest);
    }
    free(p->members);
    free(p->ovf_name);
    free(p->ovf_buf);
    free(p->mf_name);
    for (i = 0; i < p->nr_mf; i++) {
        free(p->mf[i].name);
        free(p->mf[i].deferred);
    }
    free(p->mf);
    ovf_desc_free(&p->desc);
}

static int
pkg_oom(struct pkg *p)
{
    vmc_error(p->h, "%s: out of memory", p->path);
    return -1;
}

const char *
vmware_param(size_t nr, const char *const *params, const char *key)
{
    size_t i, len = strlen(key);

    for (i = 0; i < nr; i++)
        if (strncmp(params[i], key, len) == 0 && params[i][len] == '=')
            return params[i] + len + 1;
    return NULL;
}

/* ---- Manifest ----------------------------------------------------- */

/* Parse the manifest TEXT (LEN bytes, named NAME): lines
 * "SHA256(file)= hex", "SHA1(file)= hex".
 */
static int
mf_parse(struct pkg *p, const char *name, const char *text, size_t len)
{
    const char *line = text, *end = text + len;
    unsigned lineno = 0;

    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t) (end - line));
        const char *le = nl ? nl : end, *open, *close, *eq, *hx;
        char alg[16];
        size_t hlen, i;
        struct mf_entry *e;
        int kind;

        lineno++;
        if (le > line && le[-1] == '\r')
            le--;
        if (le == line) {
            line = nl ? nl + 1 : end;
            continue;
        }
        open = memchr(line, '(', (size_t) (le - line));
        eq = NULL;
        for (close = le; close > line; close--)
            if (close[-1] == '=') {
                eq = close - 1;
                break;
            }
        if (open == NULL || eq == NULL || eq <= open) {
            vmc_error(p->h, "%s: line %u: not a manifest line "
                      "(ALGORITHM(file)= digest)", name, lineno);
            return -1;
        }
        close = eq;
        while (close > open && close[-1] == ' ')
            close--;
        if (close == open || close[-1] != ')' ||
            (size_t) (open - line) >= sizeof alg) {
            vmc_error(p->h, "%s: line %u: not a manifest line "
                      "(ALGORITHM(file)= digest)", name, lineno);
            return -1;
        }
        memcpy(alg, line, (size_t) (open - line));
        alg[open - line] = '\0';
        while (strlen(alg) && alg[strlen(alg) - 1] == ' ')
            alg[strlen(alg) - 1] = '\0';
        kind = vmc_digest_from_name(alg);
        if (kind < 0) {
            vmc_error(p->h, "%s: line %u: digest '%s' is not supported "
                      "(SHA1 and SHA256 are)", name, lineno, alg);
            return -1;
        }
        hx = eq + 1;
        while (hx < le && *hx == ' ')
            hx++;
        hlen = (size_t) (le - hx);
        if (hlen != (kind == VMC_DIGEST_SHA1 ? 40u : 64u)) {
            vmc_error(p->h, "%s: line %u: the %s digest has %zu characters",
                      name, lineno, alg, hlen);
            return -1;
        }
        if (p->nr_mf >= OVA_MAX_MEMBERS) {
            vmc_error(p->h, "%s: too many lines", name);
            return -1;
        }
        e = realloc(p->mf, (p->nr_mf + 1) * sizeof *e);
        if (e == NULL)
            return pkg_oom(p);
        p->mf = e;
        e = &p->mf[p->nr_mf];
        memset(e, 0, sizeof *e);
        e->kind = (enum vmc_digest) kind;
        for (i = 0; i < hlen; i++) {
            char ch = (char) tolower((unsigned char) hx[i]);

            if (!strchr("0123456789abcdef", ch) || ch == '\0') {
                vmc_error(p->h, "%s: line %u: the digest is not "
                          "hexadecimal", name, lineno);
                return -1;
            }
            e->hex[i] = ch;
        }
        e->name = strndup(open + 1, (size_t) (close - 1 - (open + 1)));
        if (e->name == NULL)
            return pkg_oom(p);
        p->nr_mf++;
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* The manifest entry for NAME (a name relative to the .ovf), or NULL. */
static struct mf_entry *
mf_find(struct pkg *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nr_mf; i++)
        if (strcmp(p->mf[i].name, name) == 0)
            return &p->mf[i];
    return NULL;
}

/* Compare the digest HEX of package file NAME with the manifest. */
static int
mf_check(struct pkg *p, struct mf_entry *e, const char *hex)
{
    if (strcmp(e->hex, hex) != 0) {
        vmc_error(p->h, "%s: %s: %s digest does not match the manifest %s "
                  "(the file is corrupt or was changed)", p->path, e->name,
                  vmc_digest_name(e->kind), p->mf_name);
        return -1;
    }
    e->checked = true;
    return 0;
}

/* Every line of the manifest was checked: a file it lists and the
 * package lacks is an error.
 */
static int
mf_all_checked(struct pkg *p)
{
    size_t i;

    for (i = 0; i < p->nr_mf; i++)
        if (!p->mf[i].checked) {
            vmc_error(p->h, "%s: %s lists '%s', which is missing from the "
                      "package", p->path, p->mf_name, p->mf[i].name);
            return -1;
        }
    return 0;
}

/* ---- Names ---------------------------------------------------------- */

/* Refuse a member name that could leave the work directory. */
static int
ova_check_name(struct pkg *p, const char *name)
{
    const char *s;

    if (name[0] == '/' || strchr(name, '\\')) {
        vmc_error(p->h, "%s: member '%s' has an absolute name: refused",
                  p->path, name);
        return -1;
    }
    for (s = name; *s; ) {
        size_t len = strcspn(s, "/");

        if (len == 2 && s[0] == '.' && s[1] == '.') {
            vmc_error(p->h, "%s: member '%s' leads outside the package "
                      "(\"..\"): refused", p->path, name);
            return -1;
        }
        s += len;
        if (*s == '/')
            s++;
    }
    return 0;
}

static bool
ova_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* macOS AppleDouble files ("._name"), ignored. */
static bool
ova_is_appledouble(const char *name)
{
    const char *base = strrchr(name, '/');

    base = base ? base + 1 : name;
    return strncmp(base, "._", 2) == 0;
}

static struct pkg_member *
pkg_member(struct pkg *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nr_members; i++)
        if (strcmp(p->members[i].name, name) == 0)
            return &p->members[i];
    return NULL;
}

/* ---- The OVA: first pass ----------------------------------------- */

static struct archive *
ova_open_archive(struct pkg *p)
{
    struct archive *a = archive_read_new();

    if (a == NULL) {
        pkg_oom(p);
        return NULL;
    }
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_zip(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_bzip2(a);
    if (archive_read_open_filename(a, p->path, 65536) != ARCHIVE_OK) {
        vmc_error(p->h, "%s: not an OVA (tar or zip): %s", p->path,
                  archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* Read the whole current member (at most MAX bytes) into *BUF. */
static int
ova_read_member(struct pkg *p, struct archive *a, const char *name,
                uint64_t size, size_t max, void **buf, size_t *len)
{
    char *b;
    la_ssize_t n;
    size_t got = 0;

    if (size > max) {
        vmc_error(p->h, "%s: member '%s' is too large (%" PRIu64 " bytes)",
                  p->path, name, size);
        return -1;
    }
    b = malloc((size_t) size + 1);
    if (b == NULL)
        return pkg_oom(p);
    while (got < size &&
           (n = archive_read_data(a, b + got, (size_t) size - got)) > 0)
        got += (size_t) n;
    if (got != size) {
        vmc_error(p->h, "%s: member '%s': %s", p->path, name,
                  archive_error_string(a) ? archive_error_string(a)
                  : "the archive ends inside the member (truncated)");
        free(b);
        return -1;
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    return 0;
}

/* Pass 1: list the members, read the .ovf and the .mf. */
static int
ova_list(struct pkg *p, uint64_t file_size)
{
    struct archive *a;
    struct archive_entry *e;
    int r, ret = -1;

    a = ova_open_archive(p);
    if (a == NULL)
        return -1;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        struct pkg_member *m;
        void *mp;

        if (p->nr_members == 0) {
            /* Known now: the format and the filters. */
            int fmt = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;

            p->in_place = fmt == ARCHIVE_FORMAT_TAR &&
                archive_filter_count(a) == 1;
        }
        if (name == NULL) {
            vmc_error(p->h, "%s: a member has no name", p->path);
            goto out;
        }
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        if (ova_check_name(p, name) == -1)
            goto out;
        if (archive_entry_hardlink(e) || archive_entry_symlink(e)) {
            vmc_error(p->h, "%s: member '%s' is a link: refused", p->path,
                      name);
            goto out;
        }
        if (archive_entry_filetype(e) == AE_IFDIR || *name == '\0')
            continue;
        if (archive_entry_filetype(e) != AE_IFREG) {
            vmc_error(p->h, "%s: member '%s' is not a regular file: refused",
                      p->path, name);
            goto out;
        }
        if (ova_is_appledouble(name))
            continue;
        if (archive_entry_sparse_count(e) > 0) {
            vmc_error(p->h, "%s: member '%s' is a sparse tar member: not "
                      "supported", p->path, name);
            goto out;
        }
        if (pkg_member(p, name)) {
            vmc_error(p->h, "%s: member '%s' is stored twice: refused",
                      p->path, name);
            goto out;
        }
        if (p->nr_members >= OVA_MAX_MEMBERS) {
            vmc_error(p->h, "%s: more than %d members", p->path,
                      OVA_MAX_MEMBERS);
            goto out;
        }
        if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0) {
            vmc_error(p->h, "%s: member '%s' has no size", p->path, name);
            goto out;
        }
        mp = realloc(p->members, (p->nr_members + 1) * sizeof *m);
        if (mp == NULL) {
            pkg_oom(p);
            goto out;
        }
        p->members = mp;
        m = &p->members[p->nr_members];
        memset(m, 0, sizeof *m);
        m->name = strdup(name);
        if (m->name == NULL) {
            pkg_oom(p);
            goto out;
        }
        p->nr_members++;
        m->size = (uint64_t) archive_entry_size(e);
        m->offset = (uint64_t) archive_filter_bytes(a, 0);
        if (p->in_place &&
            (m->offset > file_size || m->size > file_size - m->offset)) {
            vmc_error(p->h, "%s: member '%s' (%" PRIu64 " bytes at offset %"
                      PRIu64 ") is truncated: the file has %" PRIu64
                      " bytes", p->path, name, m->size, m->offset,
                      file_size);
            goto out;
        }
        if (p->ovf_name == NULL && ova_ends_with(name, ".ovf")) {
            const char *slash = strrchr(name, '/');

            p->ovf_name = strdup(name);
            p->prefix = strndup(name, slash ? (size_t) (slash + 1 - name)
                                            : 0);
            if (p->ovf_name == NULL || p->prefix == NULL) {
                pkg_oom(p);
                goto out;
            }
            if (ova_read_member(p, a, name, m->size, OVF_MAX_SIZE,
                                &p->ovf_buf, &p->ovf_len) == -1)
                goto out;
        }
        else if (ova_ends_with(name, ".cert"))
            p->has_cert = true;
        else if (p->mf_name == NULL && ova_ends_with(name, ".mf")) {
            CLEANUP_FREE void *buf = NULL;
            size_t len;

            p->mf_name = strdup(name);
            if (p->mf_name == NULL) {
                pkg_oom(p);
                goto out;
            }
            if (ova_read_member(p, a, name, m->size, MF_MAX_SIZE, &buf,
                                &len) == -1)
                goto out;
            if (memchr(buf, '\0', len)) {
                vmc_error(p->h, "%s: %s: not a text file", p->path, name);
                goto out;
            }
            if (mf_parse(p, name, buf, len) == -1)
                goto out;
        }
        else if (p->in_place && m->size > 0) {
            /* Make sure the member is where we will read it. */
            char a1[512], a2[512];
            size_t n = m->size < sizeof a1 ? (size_t) m->size : sizeof a1;
            int fd = open(p->path, O_RDONLY | O_CLOEXEC);
            ssize_t got = fd >= 0 ? pread(fd, a2, n, (off_t) m->offset) : -1;

            if (fd >= 0)
                close(fd);
            if (archive_read_data(a, a1, n) != (la_ssize_t) n ||
                got != (ssize_t) n || memcmp(a1, a2, n) != 0) {
                vmc_error(p->h, "%s: member '%s' cannot be located in the "
                          "file to be read in place", p->path, name);
                goto out;
            }
        }
    }
    if (r != ARCHIVE_EOF) {
        /* Name the member before the failure: that is the one cut. */
        if (p->nr_members)
            vmc_error(p->h, "%s: %s (after member '%s': the archive is "
                      "truncated or corrupt)", p->path,
                      archive_error_string(a) ? archive_error_string(a)
                      : "cannot read the archive",
                      p->members[p->nr_members - 1].name);
        else
            vmc_error(p->h, "%s: %s", p->path, archive_error_string(a)
                      ? archive_error_string(a) : "cannot read the archive");
        goto out;
    }
    if (p->ovf_name == NULL) {
        vmc_error(p->h, "%s: the package holds no .ovf file", p->path);
        goto out;
    }
    ret = 0;
out:
    archive_read_free(a);
    return ret;
}

/* ---- The OVA: second pass ----------------------------------------- */

/* A new file in the work directory for the contents of NAME; registered
 * with the VM so that it lives as long as the VM.  Sets *LOCAL.
 */
static int
pkg_tmpfile(struct pkg *p, const char *name, bool gunzipped, char **local)
{
    const char *base = strrchr(name, '/');
    CLEANUP_FREE char *dir = NULL;
    int fd;

    base = base ? base + 1 : name;
    if (asprintf(&dir, "%s/vmconv-ova-XXXXXX", p->opts->workdir) == -1)
        return pkg_oom(p);
    if (mkdtemp(dir) == NULL) {
        vmc_error(p->h, "mkdtemp: %s: %m", dir);
        return -1;
    }
    if (vmc_vm_add_tmpfile(p->desc.vm, dir) == -1) {
        rmdir(dir);
        return -1;
    }
    if (asprintf(local, "%s/%s", dir, base) == -1)
        return pkg_oom(p);
    /* An inflated "disk.vmdk.gz" is "disk.vmdk". */
    if (gunzipped && ova_ends_with(*local, ".gz"))
        (*local)[strlen(*local) - 3] = '\0';
    fd = open(*local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
        vmc_error(p->h, "open: %s: %m", *local);
        free(*local);
        *local = NULL;
        return -1;
    }
    return fd;
}

/* Where the bytes of one package file go while they are read. */
#define SINK_ZOUT 65536

struct sink {
    struct pkg *p;
    const char *what;            /* for messages */
    struct vmc_digest_ctx *dg;   /* or NULL */
    int fd;                      /* the extracted copy, or -1 */
    bool inflate;                /* gunzip into FD (or, without FD,
                                    only to check the data) */
    z_stream z;
    bool z_init;
    bool z_end;
    unsigned char *zout;         /* inflate's output buffer (heap: 64 KiB
                                    would crowd the stack frame) */
    uint64_t out;                /* bytes written to FD */
    uint64_t max_out;
};

static int
sink_write(struct sink *s, const void *buf, size_t len)
{
    const char *b = buf;

    if (s->out + len > s->max_out) {
        vmc_error(s->p->h, "%s: %s: decompresses to more than %" PRIu64
                  " bytes: refused", s->p->path, s->what, s->max_out);
        return -1;
    }
    s->out += len;
    if (s->fd < 0)
        return 0;               /* only checked */
    while (len > 0) {
        ssize_t n = write(s->fd, b, len);

        if (n == -1) {
            if (errno == EINTR)
                continue;
            vmc_error(s->p->h, "write: %s: extracting %s: %m",
                      s->p->opts->workdir, s->what);
            return -1;
        }
        b += n;
        len -= (size_t) n;
    }
    return 0;
}

static int
sink_feed(struct sink *s, const void *buf, size_t len)
{
    if (s->dg)
        vmc_digest_update(s->dg, buf, len);
    if (!s->inflate && s->fd < 0)
        return 0;
    if (!s->inflate)
        return sink_write(s, buf, len);
    if (!s->z_init) {
        memset(&s->z, 0, sizeof s->z);
        s->zout = malloc(SINK_ZOUT);
        if (s->zout == NULL) {
            vmc_error(s->p->h, "out of memory");
            return -1;
        }
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            vmc_error(s->p->h, "%s: %s: cannot start gzip decompression",
                      s->p->path, s->what);
            return -1;
        }
        s->z_init = true;
    }
    s->z.next_in = (Bytef *) buf;
    s->z.avail_in = (uInt) len;
    while (s->z.avail_in > 0) {
        unsigned char *out = s->zout;
        int r;

        if (s->z_end) {
            /* Concatenated gzip members (as gzip(1) reads them). */
            if (inflateReset(&s->z) != Z_OK)
                return -1;
            s->z_end = false;
        }
        s->z.next_out = out;
        s->z.avail_out = SINK_ZOUT;
        r = inflate(&s->z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
            vmc_error(s->p->h, "%s: %s: gzip data is corrupt (%s)",
                      s->p->path, s->what, s->z.msg ? s->z.msg : "inflate");
            return -1;
        }
        if (sink_write(s, out, SINK_ZOUT - s->z.avail_out) == -1)
            return -1;
        if (r == Z_STREAM_END)
            s->z_end = true;
        else if (r == Z_BUF_ERROR && s->z.avail_in > 0)
            return -1;
    }
    return 0;
}

static int
sink_finish(struct sink *s)
{
    if (s->inflate && (!s->z_init || !s->z_end)) {
        vmc_error(s->p->h, "%s: %s: the gzip data is truncated", s->p->path,
                  s->what);
        return -1;
    }
    return 0;
}

static void
sink_close(struct sink *s)
{
    if (s->z_init)
        inflateEnd(&s->z);
    free(s->zout);
    s->zout = NULL;
    if (s->fd >= 0)
        close(s->fd);
    vmc_digest_free(s->dg);
}

/* The number of chunk REL (relative to the .ovf) of the chunked file F
 * ("HREF." and 9 digits), or -1.
 */
static long
chunk_index(const struct ovf_file *f, const char *rel)
{
    size_t hl = strlen(f->href), i;

    if (!f->chunk_size || strncmp(rel, f->href, hl) != 0 ||
        rel[hl] != '.' || strlen(rel + hl + 1) != 9)
        return -1;
    for (i = hl + 1; rel[i]; i++)
        if (rel[i] < '0' || rel[i] > '9')
            return -1;
    return strtol(rel + hl + 1, NULL, 10);
}

/* Whether the caller checks the digests of disks read in place. */
static bool
pkg_defers(const struct pkg *p)
{
    return (p->in_place || p->is_dir) &&
        VMC_STRUCT_HAS(p->opts, struct vmc_read_options, flags) &&
        (p->opts->flags & VMC_READ_DEFER_DIGESTS);
}

/* What the second pass does with package file NAME (relative to the
 * .ovf): hash it (in the manifest), extract it (needed, not readable
 * in place), inflate it (gzip-compressed).  Returns false when nothing
 * is needed.
 */
struct need {
    struct mf_entry *mf;
    struct mf_entry *deferred;   /* a disk's digest left to the caller
                                    (then MF is NULL) */
    bool extract;
    bool inflate;                /* (without EXTRACT) check gzip data */
    uint64_t max_out;
    const struct ovf_file *file;
};

static bool
pkg_need(struct pkg *p, const char *rel, struct need *n)
{
    size_t i;

    memset(n, 0, sizeof *n);
    n->mf = mf_find(p, rel);
    for (i = 0; i < p->desc.nr_refs; i++) {
        const struct ovf_disk_ref *r = &p->desc.refs[i];
        const struct ovf_file *f = &p->desc.files[r->file];

        /* An ISO in the package stays there: nothing to extract. */
        if ((strcmp(f->href, rel) != 0 || f->chunk_size) &&
            chunk_index(f, rel) < 0)
            continue;
        if (p->desc.vm->disks[r->disk]->reference_only)
            continue;
        n->file = f;
        /* A stored tar or a directory is read where it is (gzip data
         * through an inflating source); a compressed tar or a zip is
         * extracted, gzip data inflated (not chunks: they are
         * extracted as they are, and inflated as they are read).
         */
        if ((p->in_place || p->is_dir) && f->gzip && !f->chunk_size) {
            /* Inflated here only to check it, so that damaged data is
             * refused naming the member (it is read in place later).
             */
            n->inflate = true;
            n->max_out = UINT64_MAX;
        }
        if (!p->in_place && !p->is_dir) {
            n->extract = true;
            n->inflate = f->gzip && !f->chunk_size;
            if (!n->inflate)
                n->max_out = UINT64_MAX;
            else if (r->capacity == 0)
                n->max_out = OVA_MAX_INFLATED_ISO;
            else    /* a disk image holds its data and some metadata */
                n->max_out = r->capacity + r->capacity / 16 +
                             (UINT64_C(64) << 20);
        }
    }
    if (p->desc.nvram_file >= 0 && !p->is_dir &&
        strcmp(p->desc.files[p->desc.nvram_file].href, rel) == 0 &&
        !p->desc.files[p->desc.nvram_file].chunk_size) {
        /* The firmware variables: a small file, extracted. */
        n->extract = true;
        n->inflate = p->desc.files[p->desc.nvram_file].gzip;
        n->max_out = UINT64_C(64) << 20;
    }
    if (n->extract && p->is_dir && !n->inflate)
        n->extract = false;     /* read where it is */
    if (n->mf && n->file && !n->extract && !n->inflate && pkg_defers(p)) {
        /* A disk read where it lies: hashed while it is copied. */
        n->deferred = n->mf;
        n->mf = NULL;
    }
    return n->mf || n->extract || n->inflate;
}

/* Leave the digest of package file REL (entry E of the manifest),
 * whose bytes SOURCE names, to the caller (see the head of this file).
 */
static int
pkg_defer_digest(struct pkg *p, struct mf_entry *e, const char *source)
{
    CLEANUP_FREE char *what = NULL;

    if (asprintf(&what, "%s: %s", p->path, e->name) == -1)
        return pkg_oom(p);
    if (vmc_vm_add_digest(p->desc.vm, source, vmc_digest_name(e->kind),
                          e->hex, what) == -1)
        return -1;
    e->deferred = strdup(source);
    if (e->deferred == NULL)
        return pkg_oom(p);
    e->checked = true;
    return 0;
}

/* Check the digests left to the caller now, after all: a disk that
 * cannot be opened may be damaged, and the manifest says so best.
 * Returns 0 (all match) or -1 with an error.
 */
static int
pkg_check_deferred(struct pkg *p)
{
    CLEANUP_FREE char *buf = NULL;
    size_t i;

    for (i = 0; i < p->nr_mf; i++) {
        struct mf_entry *e = &p->mf[i];
        struct vmc_digest_ctx *dg;
        struct vmc_image *img;
        char hex[VMC_DIGEST_HEX_MAX];
        uint64_t off, size;

        if (e->deferred == NULL)
            continue;
        if (buf == NULL && (buf = malloc(OVA_IN_PLACE_IO)) == NULL)
            return pkg_oom(p);
        img = vmc_image_open_name(p->h, e->deferred, "raw", 0);
        if (img == NULL)
            return -1;
        dg = vmc_digest_new(p->h, e->kind);
        if (dg == NULL) {
            vmc_image_close(img);
            return -1;
        }
        size = vmc_image_size(img);
        for (off = 0; off < size; ) {
            size_t len = size - off < OVA_IN_PLACE_IO ? (size_t) (size - off)
                                                      : OVA_IN_PLACE_IO;

            if (vmc_cancelled(p->h)) {
                vmc_error(p->h, "cancelled");
                break;
            }
            if (vmc_image_pread(img, buf, len, off) == -1)
                break;
            vmc_digest_update(dg, buf, len);
            off += len;
        }
        vmc_image_close(img);
        if (off < size) {
            vmc_digest_free(dg);
            return -1;
        }
        vmc_digest_final(dg, hex);
        if (mf_check(p, e, hex) == -1)
            return -1;
    }
    return 0;
}

/* The disks of an OVA read in place whose digests are left to the
 * caller.
 */
static int
ova_defer_digests(struct pkg *p)
{
    size_t i, plen = strlen(p->prefix);

    if (!p->in_place || !pkg_defers(p))
        return 0;
    for (i = 0; i < p->nr_members; i++) {
        const struct pkg_member *m = &p->members[i];
        CLEANUP_FREE char *source = NULL;
        struct need n;

        if (strncmp(m->name, p->prefix, plen) != 0 ||
            strcmp(m->name, p->ovf_name) == 0 ||
            (p->mf_name && strcmp(m->name, p->mf_name) == 0))
            continue;
        pkg_need(p, m->name + plen, &n);
        if (n.deferred == NULL)
            continue;
        if (asprintf(&source, "%s%" PRIu64 ":%" PRIu64 ":%s",
                     VMC_RANGE_PREFIX, m->offset, m->size, p->path) == -1)
            return pkg_oom(p);
        if (pkg_defer_digest(p, n.deferred, source) == -1)
            return -1;
    }
    return 0;
}

static int
pkg_sink_start(struct pkg *p, struct pkg_member *m, const char *rel,
               const struct need *n, struct sink *s)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->what = rel;
    s->fd = -1;
    if (n->mf) {
        s->dg = vmc_digest_new(p->h, n->mf->kind);
        if (s->dg == NULL)
            return -1;
    }
    if (n->extract) {
        s->fd = pkg_tmpfile(p, rel, n->inflate, &m->local);
        if (s->fd == -1)
            return -1;
        s->inflate = n->inflate;
        s->max_out = n->max_out;
    }
    else if (n->inflate) {
        s->inflate = true;      /* check only */
        s->max_out = n->max_out;
    }
    return 0;
}

static int
pkg_sink_end(struct pkg *p, struct pkg_member *m, const struct need *n,
             struct sink *s)
{
    char hex[VMC_DIGEST_HEX_MAX];

    if (sink_finish(s) == -1)
        return -1;
    if (n->mf) {
        vmc_digest_final(s->dg, hex);
        s->dg = NULL;
        if (mf_check(p, n->mf, hex) == -1)
            return -1;
        m->digest = strdup(hex);
    }
    return 0;
}

/* Pass 2 over the OVA. */
static int
ova_data(struct pkg *p)
{
    struct archive *a;
    struct archive_entry *e;
    CLEANUP_FREE char *buf = NULL;
    int r, ret = -1;
    size_t plen = strlen(p->prefix);

    a = ova_open_archive(p);
    if (a == NULL)
        return -1;
    buf = malloc(OVA_IO_SIZE);
    if (buf == NULL) {
        pkg_oom(p);
        goto out;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        struct pkg_member *m;
        struct need n;
        struct sink s;
        la_ssize_t got;
        uint64_t total = 0;
        int ok;

        while (name && name[0] == '.' && name[1] == '/')
            name += 2;
        m = name ? pkg_member(p, name) : NULL;
        if (m == NULL || strncmp(name, p->prefix, plen) != 0 ||
            strcmp(name, p->ovf_name) == 0 ||
            (p->mf_name && strcmp(name, p->mf_name) == 0))
            continue;
        if (!pkg_need(p, name + plen, &n))
            continue;
        if (pkg_sink_start(p, m, name + plen, &n, &s) == -1) {
            sink_close(&s);
            goto out;
        }
        ok = 0;
        while ((got = archive_read_data(a, buf, OVA_IO_SIZE)) > 0) {
            total += (uint64_t) got;
            if ((ok = sink_feed(&s, buf, (size_t) got)) == -1)
                break;
            if (vmc_cancelled(p->h)) {
                vmc_error(p->h, "cancelled");
                ok = -1;
                break;
            }
        }
        if (ok == 0 && (got < 0 || total != m->size)) {
            vmc_error(p->h, "%s: member '%s': %s", p->path, name,
                      got < 0 && archive_error_string(a)
                      ? archive_error_string(a)
                      : "the archive ends inside the member (truncated)");
            ok = -1;
        }
        if (ok == 0)
            ok = pkg_sink_end(p, m, &n, &s);
        sink_close(&s);
        if (ok == -1)
            goto out;
    }
    if (r != ARCHIVE_EOF) {
        vmc_error(p->h, "%s: %s", p->path, archive_error_string(a)
                  ? archive_error_string(a) : "cannot read the archive");
        goto out;
    }
    ret = 0;
out:
    archive_read_free(a);
    return ret;
}

/* Pass 2 over an uncompressed tar: each member that needs it is read
 * where it lies, with large reads, without libarchive copying it.
 */
static int
ova_data_in_place(struct pkg *p)
{
    CLEANUP_FREE char *buf = NULL;
    size_t i, plen = strlen(p->prefix);
    int fd, ret = -1;

    fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        vmc_error(p->h, "open: %s: %m", p->path);
        return -1;
    }
    buf = malloc(OVA_IN_PLACE_IO);
    if (buf == NULL) {
        pkg_oom(p);
        goto out;
    }
    for (i = 0; i < p->nr_members; i++) {
        struct pkg_member *m = &p->members[i];
        const char *name = m->name;
        uint64_t off = 0;
        struct need n;
        struct sink s;
        int ok = 0;

        if (strncmp(name, p->prefix, plen) != 0 ||
            strcmp(name, p->ovf_name) == 0 ||
            (p->mf_name && strcmp(name, p->mf_name) == 0) ||
            !pkg_need(p, name + plen, &n))
            continue;
        if (pkg_sink_start(p, m, name + plen, &n, &s) == -1) {
            sink_close(&s);
            goto out;
        }
        posix_fadvise(fd, (off_t) m->offset, (off_t) m->size,
                      POSIX_FADV_SEQUENTIAL);
        while (ok == 0 && off < m->size) {
            size_t want = m->size - off < OVA_IN_PLACE_IO
                          ? (size_t) (m->size - off) : OVA_IN_PLACE_IO;
            ssize_t got = pread(fd, buf, want, (off_t) (m->offset + off));

            if (got <= 0) {
                if (got == -1 && errno == EINTR)
                    continue;
                if (got == 0)
                    vmc_error(p->h, "%s: member '%s' is truncated", p->path,
                              name);
                else
                    vmc_error(p->h, "read: %s: %m", p->path);
                ok = -1;
                break;
            }
            ok = sink_feed(&s, buf, (size_t) got);
            off += (uint64_t) got;
            if (ok == 0 && vmc_cancelled(p->h)) {
                vmc_error(p->h, "cancelled");
                ok = -1;
            }
        }
        if (ok == 0)
            ok = pkg_sink_end(p, m, &n, &s);
        sink_close(&s);
        if (ok == -1)
            goto out;
    }
    ret = 0;
out:
    close(fd);
    return ret;
}

/* ---- The directory ------------------------------------------------ */

/* Hash (and inflate) the package file REL of a directory package. */
static int
dir_data(struct pkg *p, const char *rel, const char *local,
         struct pkg_member *m)
{
    CLEANUP_FREE char *buf = NULL;
    struct need n;
    struct sink s;
    int fd, ok = 0;
    ssize_t got;

    if (!pkg_need(p, rel, &n))
        return 0;
    fd = open(local, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        vmc_error(p->h, "open: %s: %m", local);
        return -1;
    }
    buf = malloc(OVA_IO_SIZE);
    if (buf == NULL || pkg_sink_start(p, m, rel, &n, &s) == -1) {
        if (buf == NULL)
            pkg_oom(p);
        else
            sink_close(&s);
        close(fd);
        return -1;
    }
    while ((got = read(fd, buf, OVA_IO_SIZE)) != 0) {
        if (got == -1) {
            if (errno == EINTR)
                continue;
            vmc_error(p->h, "read: %s: %m", local);
            ok = -1;
            break;
        }
        if ((ok = sink_feed(&s, buf, (size_t) got)) == -1)
            break;
        if (vmc_cancelled(p->h)) {
            vmc_error(p->h, "cancelled");
            ok = -1;
            break;
        }
    }
    close(fd);
    if (ok == 0)
        ok = pkg_sink_end(p, m, &n, &s);
    sink_close(&s);
    return ok;
}

/* Resolve the package file REL of a directory package into *LOCAL
 * (NULL if it does not exist).
 */
static int
dir_resolve(struct pkg *p, const char *rel, char **local)
{
    CLEANUP_FREE char *what = NULL;

    if (asprintf(&what, "%s: %s", p->path, rel) == -1)
        return pkg_oom(p);
    return vmc_resolve_foreign_name(p->h, rel, p->dir,
                                    VMC_FOREIGN_MISSING_OK |
                                    (p->opts->image_flags &
                                     VMC_FOREIGN_ALLOW_OUTSIDE),
                                    what, local);
}

/* Check the manifest of a directory package: every file it lists
 * (the .ovf included) has its digest.
 */
static int
dir_check(struct pkg *p)
{
    size_t i;

    for (i = 0; i < p->nr_mf; i++) {
        struct mf_entry *e = &p->mf[i];
        CLEANUP_FREE char *local = NULL;
        struct pkg_member m = { 0 };
        struct need n;
        int r;

        if (e->checked)
            continue;
        if (ova_check_name(p, e->name) == -1 ||
            dir_resolve(p, e->name, &local) == -1)
            return -1;
        if (local == NULL) {
            vmc_error(p->h, "%s: %s lists '%s', which is missing from the "
                      "package", p->path, p->mf_name, e->name);
            return -1;
        }
        pkg_need(p, e->name, &n);
        if (n.deferred) {
            if (pkg_defer_digest(p, e, local) == -1)
                return -1;
            continue;
        }
        r = dir_data(p, e->name, local, &m);
        free(m.digest);
        if (r == -1) {
            free(m.local);
            return -1;
        }
        /* Files that needed inflating were extracted while hashed:
         * keep the copy as a member.
         */
        if (m.local) {
            struct pkg_member *mp = realloc(p->members,
                                            (p->nr_members + 1) * sizeof *mp);

            if (mp == NULL) {
                free(m.local);
                return pkg_oom(p);
            }
            p->members = mp;
            mp[p->nr_members].name = strdup(e->name);
            mp[p->nr_members].local = m.local;
            mp[p->nr_members].digest = NULL;
            p->nr_members++;
        }
    }
    return 0;
}

/* ---- Disks into the model ------------------------------------------ */

/* Open the image of disk R, named NAME (a local file, or a range:,
 * concat: or gzip: source name), and take its format and size.  WHAT
 * (or NULL) names the package file in errors.
 */
static int
pkg_open_disk(struct pkg *p, const struct ovf_disk_ref *r, const char *name,
              const char *what, unsigned extra_flags)
{
    struct vmc_vm *vm = p->desc.vm;
    struct vmc_disk *d = vm->disks[r->disk];
    const struct ovf_file *f = &p->desc.files[r->file];
    struct vmc_image *img;
    char *path;
    uint64_t size;

    img = vmc_image_open_name(p->h, name, NULL,
                              (p->opts->image_flags & ~VMC_IMAGE_RDWR) |
                              extra_flags);
    if (img == NULL) {
        CLEANUP_FREE char *msg = strdup(vmc_get_error(p->h)
                                        ? vmc_get_error(p->h) : "");
        enum vmc_error_kind kind = vmc_get_error_kind(p->h);

        /* Replaced below: in a job (vmconv convert) only the first
         * error would be kept.
         */
        vmc_clear_error(p->h);
        /* A damaged disk whose digest was left for later: say so. */
        if (pkg_check_deferred(p) == -1)
            return -1;
        if (what)       /* name the member: the source's name is the OVA's */
            vmc_error_kind(p->h, kind, "%s: %s: %s", p->path, what,
                           msg && *msg ? msg : "cannot be opened");
        else
            vmc_error_kind(p->h, kind, "%s", msg && *msg ? msg
                           : "cannot be opened");
        return -1;
    }
    path = strdup(name);
    if (path == NULL) {
        vmc_image_close(img);
        return pkg_oom(p);
    }
    free(d->path);
    d->path = path;
    size = vmc_image_size(img);
    if (vmc_vm_set_string(vm, &d->format, vmc_image_format(img)) == -1) {
        vmc_image_close(img);
        return -1;
    }
    vmc_image_close(img);
    if (r->capacity && size != r->capacity &&
        vmc_vm_add_note(vm, "disk %zu (%s): the image holds %" PRIu64
                        " bytes, the OVF says %" PRIu64, r->disk, f->href,
                        size, r->capacity) == -1)
        return -1;
    d->virtual_size = size;
    return 0;
}

/* Append ":OFFSET:LENGTH:PATHLENGTH:PATH" to the source name in FP. */
static void
name_part(FILE *fp, const char *path, uint64_t offset, uint64_t length)
{
    fprintf(fp, ":%" PRIu64 ":%" PRIu64 ":%zu:%s", offset, length,
            strlen(path), path);
}

/* The chunks of file F (ovf:chunkSize): check them and set *NAME to the
 * source name of their concatenation ("concat:...", "gzip:concat:..."
 * for gzip data).  Beside an .ovf without its first chunk, sets
 * *MISSING instead.  Every refusal names the chunk.
 */
static int
pkg_chunks(struct pkg *p, const struct ovf_file *f, char **name,
           bool *missing)
{
    const char *kind = p->is_dir ? "file" : "member";
    CLEANUP_FREE char *parts = NULL, *rel = NULL, *short_rel = NULL;
    size_t parts_len = 0, k;
    uint64_t total = 0, expect_n = 0, short_size = 0;
    ptrdiff_t prev = -1;
    long max_seen = -1;
    FILE *fp;
    int ret = -1;

    *name = NULL;
    *missing = false;
    if (f->has_size)
        expect_n = f->size / f->chunk_size + (f->size % f->chunk_size != 0);
    if (expect_n > VMC_CONCAT_MAX_PARTS) {
        vmc_error(p->h, "%s: file '%s' would be split into %" PRIu64
                  " chunks (ovf:size %" PRIu64 ", ovf:chunkSize %" PRIu64
                  "): more than %u are refused", p->path, f->href, expect_n,
                  f->size, f->chunk_size, VMC_CONCAT_MAX_PARTS);
        return -1;
    }
    /* Chunks stored beyond a gap (OVA). */
    for (k = 0; !p->is_dir && k < p->nr_members; k++) {
        const char *m = p->members[k].name;
        long i;

        if (strncmp(m, p->prefix, strlen(p->prefix)) == 0 &&
            (i = chunk_index(f, m + strlen(p->prefix))) > max_seen)
            max_seen = i;
    }
    fp = open_memstream(&parts, &parts_len);
    if (fp == NULL)
        return pkg_oom(p);
    for (k = 0; ; k++) {
        CLEANUP_FREE char *local = NULL;
        const char *file;
        uint64_t offset = 0, size;

        free(rel);
        if (asprintf(&rel, "%s.%09zu", f->href, k) == -1) {
            rel = NULL;
            pkg_oom(p);
            goto out;
        }
        if (p->is_dir) {
            struct stat st;

            if (dir_resolve(p, rel, &local) == -1)
                goto out;
            if (local == NULL)
                break;
            if (stat(local, &st) == -1) {
                vmc_error(p->h, "stat: %s: %m", local);
                goto out;
            }
            size = (uint64_t) st.st_size;
            file = local;
        }
        else {
            CLEANUP_FREE char *full = NULL;
            const struct pkg_member *m;

            if (asprintf(&full, "%s%s", p->prefix, rel) == -1) {
                pkg_oom(p);
                goto out;
            }
            m = pkg_member(p, full);
            if (m == NULL)
                break;
            if (m - p->members < prev) {
                vmc_error(p->h, "%s: member '%s' is stored before chunk "
                          "%zu of '%s' in the tar: chunks must follow one "
                          "another in order (DSP0243)", p->path, m->name,
                          k - 1, f->href);
                goto out;
            }
            prev = m - p->members;
            size = m->size;
            if (p->in_place) {
                file = p->path;
                offset = m->offset;
            }
            else if (m->local)
                file = m->local;
            else {
                vmc_error(p->h, "%s: member '%s' was not extracted",
                          p->path, m->name);
                goto out;
            }
        }
        if (k >= VMC_CONCAT_MAX_PARTS) {
            vmc_error(p->h, "%s: file '%s' is split into more than %u "
                      "chunks: refused", p->path, f->href,
                      VMC_CONCAT_MAX_PARTS);
            goto out;
        }
        if (short_rel) {
            vmc_error(p->h, "%s: %s '%s' has %" PRIu64 " bytes, less than "
                      "the chunk size %" PRIu64 " (ovf:chunkSize), and is "
                      "not the last chunk: a chunk is short", p->path, kind,
                      short_rel, short_size, f->chunk_size);
            goto out;
        }
        if (size == 0 || size > f->chunk_size) {
            vmc_error(p->h, "%s: %s '%s' has %" PRIu64 " bytes: a chunk "
                      "holds 1 to %" PRIu64 " (ovf:chunkSize)", p->path,
                      kind, rel, size, f->chunk_size);
            goto out;
        }
        if (size < f->chunk_size) {
            short_rel = strdup(rel);
            short_size = size;
            if (short_rel == NULL) {
                pkg_oom(p);
                goto out;
            }
        }
        if (p->mf_name && mf_find(p, rel) == NULL &&
            vmc_vm_add_note(p->desc.vm, "%s does not list '%s': its "
                            "contents were not checked", p->mf_name,
                            rel) == -1)
            goto out;
        name_part(fp, file, offset, size);
        total += size;
    }
    if (k == 0) {
        if (p->is_dir) {
            *missing = true;
            ret = 0;
            goto out;
        }
        vmc_error(p->h, "%s: the OVF needs '%s' (the first chunk of '%s'), "
                  "which is missing from the package", p->path, rel,
                  f->href);
        goto out;
    }
    if ((expect_n && k < expect_n) || (long) k <= max_seen) {
        vmc_error(p->h, "%s: chunk '%s' of '%s' is missing from the "
                  "package%s", p->path, rel, f->href, expect_n && k < expect_n
                  ? "" : " (later chunks are there)");
        goto out;
    }
    if (expect_n && k > expect_n) {
        vmc_error(p->h, "%s: %s '%s.%09zu' is a chunk more than ovf:size %"
                  PRIu64 " needs (%" PRIu64 " chunks of %" PRIu64 ")",
                  p->path, kind, f->href, k - 1, f->size, expect_n,
                  f->chunk_size);
        goto out;
    }
    if (f->has_size && total != f->size) {
        vmc_error(p->h, "%s: the %zu chunks of '%s' hold %" PRIu64 " bytes, "
                  "the OVF says %" PRIu64 " (ovf:size): the last, '%s.%09zu', "
                  "is truncated or changed", p->path, k, f->href, total,
                  f->size, f->href, k - 1);
        goto out;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        pkg_oom(p);
        goto out;
    }
    fp = NULL;
    if (asprintf(name, "%sconcat:%zu%s", f->gzip ? VMC_GZIP_PREFIX : "", k,
                 parts) == -1) {
        *name = NULL;
        pkg_oom(p);
        goto out;
    }
    ret = 0;
out:
    if (fp)
        fclose(fp);
    return ret;
}

/* Point every disk of the model at its file. */
static int
pkg_disks(struct pkg *p)
{
    struct vmc_vm *vm = p->desc.vm;
    size_t i;

    for (i = 0; i < p->desc.nr_refs; i++) {
        const struct ovf_disk_ref *r = &p->desc.refs[i];
        const struct ovf_file *f = &p->desc.files[r->file];
        struct vmc_disk *d = vm->disks[r->disk];
        CLEANUP_FREE char *full = NULL, *local = NULL, *name = NULL,
            *what = NULL;
        struct pkg_member *m = NULL;
        bool missing = false;

        if (f->chunk_size) {
            if (pkg_chunks(p, f, &name, &missing) == -1)
                return -1;
            if (asprintf(&what, "'%s' (%s, split into chunks)", f->href,
                         f->gzip ? "gzip-compressed" : "stored") == -1)
                return pkg_oom(p);
        }
        else if (p->is_dir) {
            if (dir_resolve(p, f->href, &local) == -1)
                return -1;
            for (size_t j = 0; j < p->nr_members; j++)
                if (strcmp(p->members[j].name, f->href) == 0)
                    m = &p->members[j];
            missing = local == NULL;
            if (local && f->has_size && !f->gzip) {
                struct stat st;

                if (stat(local, &st) == 0 &&
                    (uint64_t) st.st_size != f->size) {
                    vmc_error(p->h, "%s: '%s' has %" PRIu64 " bytes, the OVF "
                              "says %" PRIu64 " (truncated or changed)",
                              p->path, f->href, (uint64_t) st.st_size,
                              f->size);
                    return -1;
                }
            }
        }
        else {
            if (asprintf(&full, "%s%s", p->prefix, f->href) == -1)
                return pkg_oom(p);
            m = pkg_member(p, full);
            if (m == NULL) {
                vmc_error(p->h, "%s: the OVF needs '%s', which is missing "
                          "from the package", p->path, f->href);
                return -1;
            }
            if (f->has_size && f->size != m->size) {
                vmc_error(p->h, "%s: member '%s' has %" PRIu64 " bytes, the "
                          "OVF says %" PRIu64 " (truncated or changed)",
                          p->path, m->name, m->size, f->size);
                return -1;
            }
        }
        if (missing) {
            /* A bare .ovf (its disks elsewhere): said, not refused. */
            d->missing = true;
            if (vmc_vm_add_note(vm, "disk %zu: '%s'%s is not in %s",
                                r->disk, f->href, f->chunk_size
                                ? " (split into chunks)" : "",
                                p->dir) == -1)
                return -1;
            continue;
        }
        if (m && m->local) {
            free(local);
            local = strdup(m->local);
            if (local == NULL)
                return pkg_oom(p);
        }
        if (d->reference_only) {
            /* An ISO: kept as the medium, never converted. */
            if (local && !(m && m->local) && !f->gzip) {
                free(d->path);
                d->path = local;
                local = NULL;
                continue;
            }
            if (vmc_vm_add_note(vm, "disk %zu: the medium '%s' inside the "
                                "package is not carried over", r->disk,
                                f->href) == -1)
                return -1;
            continue;
        }
        if (name == NULL && local && !(m && m->local) && f->gzip) {
            /* gzip data beside the .ovf, inflated as it is read. */
            if (asprintf(&name, "%s%s", VMC_GZIP_PREFIX, local) == -1 ||
                asprintf(&what, "'%s' (gzip-compressed)", f->href) == -1)
                return pkg_oom(p);
        }
        else if (name == NULL && local == NULL) {
            /* A member of a stored tar, read in place. */
            if (asprintf(&name, "%srange:%" PRIu64 ":%" PRIu64 ":%s",
                         f->gzip ? VMC_GZIP_PREFIX : "", m->offset, m->size,
                         p->path) == -1 ||
                asprintf(&what, "member '%s'%s", m->name,
                         f->gzip ? " (gzip-compressed)" : "") == -1)
                return pkg_oom(p);
        }
        if (name) {
            if (pkg_open_disk(p, r, name, what, 0) == -1)
                return -1;
        }
        else if (pkg_open_disk(p, r, local, NULL,
                               m && m->local ? VMC_IMAGE_NO_BACKING : 0) == -1)
            return -1;
    }
    return 0;
}

/* Files the OVF references that the manifest does not list. */
static int
pkg_note_unlisted(struct pkg *p)
{
    size_t i;

    if (p->mf_name == NULL)
        return 0;
    for (i = 0; i < p->desc.nr_files; i++)
        if (!p->desc.files[i].chunk_size &&     /* see pkg_chunks */
            mf_find(p, p->desc.files[i].href) == NULL &&
            vmc_vm_add_note(p->desc.vm, "%s does not list '%s': its "
                            "contents were not checked", p->mf_name,
                            p->desc.files[i].href) == -1)
            return -1;
    return 0;
}

/* Check the .ovf's own digest. */
static int
pkg_check_ovf(struct pkg *p, const char *rel)
{
    struct mf_entry *e = mf_find(p, rel);
    struct vmc_digest_ctx *dg;
    char hex[VMC_DIGEST_HEX_MAX];

    if (e == NULL) {
        if (p->mf_name &&
            vmc_vm_add_note(p->desc.vm, "%s does not list the .ovf '%s'",
                            p->mf_name, rel) == -1)
            return -1;
        return 0;
    }
    dg = vmc_digest_new(p->h, e->kind);
    if (dg == NULL)
        return -1;
    vmc_digest_update(dg, p->ovf_buf, p->ovf_len);
    vmc_digest_final(dg, hex);
    return mf_check(p, e, hex);
}

/* The firmware variables the package carries (VMware .nvram): beside
 * an .ovf they are the VM's nvram file; inside an OVA they stay there.
 */
static int
pkg_nvram(struct pkg *p)
{
    const struct ovf_file *f;
    CLEANUP_FREE char *local = NULL;

    if (p->desc.nvram_file < 0)
        return 0;
    f = &p->desc.files[p->desc.nvram_file];
    if (!p->is_dir) {
        CLEANUP_FREE char *full = NULL;
        const struct pkg_member *m;

        if (asprintf(&full, "%s%s", p->prefix, f->href) == -1)
            return pkg_oom(p);
        m = pkg_member(p, full);
        if (m && m->local) {
            p->desc.vm->nvram_kind = VMC_NVRAM_KIND_VMWARE;
            return vmc_vm_set_string(p->desc.vm, &p->desc.vm->nvram_path,
                                     m->local);
        }
    }
    else if (!f->gzip && !f->chunk_size) {
        if (dir_resolve(p, f->href, &local) == -1)
            return -1;
        if (local) {
            p->desc.vm->nvram_kind = VMC_NVRAM_KIND_VMWARE;
            return vmc_vm_set_string(p->desc.vm, &p->desc.vm->nvram_path,
                                     local);
        }
    }
    return vmc_vm_add_note(p->desc.vm, "the firmware variables '%s' %s: "
                           "not carried over", f->href,
                           p->is_dir ? "are not beside the .ovf"
                                     : "are missing from the package");
}

static struct vmc_vm *
pkg_finish(struct pkg *p)
{
    struct vmc_vm *vm;

    if (pkg_disks(p) == -1 || pkg_nvram(p) == -1)
        return NULL;
    if (p->has_cert &&
        vmc_vm_add_note(p->desc.vm, "the package is signed (.cert): the "
                        "signature was not verified (the manifest's "
                        "digests were%s)", p->mf_name ? "" : " not: there "
                        "is no manifest") == -1)
        return NULL;
    vm = p->desc.vm;
    p->desc.vm = NULL;
    return vm;
}

static const char *
pkg_vm_param(const struct vmc_read_options *opts)
{
    return vmware_param(opts->nr_params, opts->params, "vm");
}

struct vmc_vm *
ova_read_ova(struct vmc_handle *h, const char *path,
             const struct vmc_read_options *opts)
{
    struct pkg p = { .h = h, .opts = opts };
    CLEANUP_FREE char *ovf_label = NULL;
    struct vmc_vm *vm = NULL;
    struct stat st;
    size_t i;

    p.path = realpath(path, NULL);
    if (p.path == NULL) {
        vmc_error(h, "realpath: %s: %m", path);
        return NULL;
    }
    if (stat(p.path, &st) == -1) {
        vmc_error(h, "stat: %s: %m", path);
        goto out;
    }
    if (ova_list(&p, (uint64_t) st.st_size) == -1)
        goto out;
    if (p.mf_name) {
        /* The manifest names files relative to the .ovf's folder. */
        const char *slash = strrchr(p.mf_name, '/');
        size_t dl = slash ? (size_t) (slash + 1 - p.mf_name) : 0;

        if (dl != strlen(p.prefix) || strncmp(p.mf_name, p.prefix, dl)) {
            vmc_error(h, "%s: the manifest %s is not beside the .ovf %s",
                      p.path, p.mf_name, p.ovf_name);
            goto out;
        }
        for (i = 0; i < p.nr_mf; i++)
            if (ova_check_name(&p, p.mf[i].name) == -1)
                goto out;
    }
    if (asprintf(&ovf_label, "%s:%s", p.path, p.ovf_name) == -1) {
        pkg_oom(&p);
        goto out;
    }
    if (ovf_parse(h, ovf_label, p.ovf_buf, p.ovf_len, pkg_vm_param(opts),
                  &p.desc) == -1)
        goto out;
    if (pkg_check_ovf(&p, p.ovf_name + strlen(p.prefix)) == -1 ||
        ova_defer_digests(&p) == -1)
        goto out;
    /* Pass 2 only when some member must be hashed or extracted. */
    for (i = 0; i < p.nr_members; i++) {
        struct need n;
        const char *name = p.members[i].name;

        if (strncmp(name, p.prefix, strlen(p.prefix)) == 0 &&
            strcmp(name, p.ovf_name) != 0 &&
            !(p.mf_name && strcmp(name, p.mf_name) == 0) &&
            pkg_need(&p, name + strlen(p.prefix), &n))
            break;
    }
    if (i < p.nr_members &&
        (p.in_place ? ova_data_in_place(&p) : ova_data(&p)) == -1)
        goto out;
    if (mf_all_checked(&p) == -1 || pkg_note_unlisted(&p) == -1)
        goto out;
    vm = pkg_finish(&p);
out:
    pkg_free(&p);
    return vm;
}

struct vmc_vm *
ova_read_ovf_file(struct vmc_handle *h, const char *path,
                  const struct vmc_read_options *opts)
{
    struct pkg p = { .h = h, .opts = opts, .is_dir = true };
    CLEANUP_FREE char *mf = NULL;
    struct vmc_vm *vm = NULL;
    const char *base;
    char *slash;
    struct stat st;

    p.path = realpath(path, NULL);
    if (p.path == NULL) {
        vmc_error(h, "realpath: %s: %m", path);
        return NULL;
    }
    p.dir = strdup(p.path);
    if (p.dir == NULL) {
        pkg_oom(&p);
        goto out;
    }
    slash = strrchr(p.dir, '/');
    slash[slash == p.dir ? 1 : 0] = '\0';
    base = strrchr(p.path, '/') + 1;
    p.ovf_buf = vmc_read_file_len(h, p.path, OVF_MAX_SIZE, &p.ovf_len);
    if (p.ovf_buf == NULL)
        goto out;
    if (ovf_parse(h, p.path, p.ovf_buf, p.ovf_len, pkg_vm_param(opts),
                  &p.desc) == -1)
        goto out;
    /* The manifest: the .ovf's name with .mf. */
    if (asprintf(&mf, "%s", p.path) == -1) {
        pkg_oom(&p);
        goto out;
    }
    if (ova_ends_with(mf, ".ovf"))
        strcpy(mf + strlen(mf) - 4, ".mf");
    if (ova_ends_with(mf, ".mf")) {
        /* NAME.cert: a signature of the manifest. */
        CLEANUP_FREE char *cert = NULL;

        if (asprintf(&cert, "%.*s.cert", (int) (strlen(mf) - 3), mf) == -1) {
            pkg_oom(&p);
            goto out;
        }
        p.has_cert = stat(cert, &st) == 0;
    }
    if (ova_ends_with(mf, ".mf") && stat(mf, &st) == 0) {
        CLEANUP_FREE char *text = vmc_read_file(h, mf, MF_MAX_SIZE);

        if (text == NULL)
            goto out;
        p.mf_name = strdup(strrchr(mf, '/') + 1);
        if (p.mf_name == NULL) {
            pkg_oom(&p);
            goto out;
        }
        if (mf_parse(&p, mf, text, strlen(text)) == -1 ||
            pkg_check_ovf(&p, base) == -1 || dir_check(&p) == -1)
            goto out;
    }
    /* gzip-compressed disks the manifest did not list: check their
     * data now (they are read in place later), to name them if damaged.
     */
    for (size_t i = 0; i < p.desc.nr_refs; i++) {
        const struct ovf_file *f = &p.desc.files[p.desc.refs[i].file];
        CLEANUP_FREE char *local = NULL;
        struct pkg_member m = { 0 };
        int r;

        if (!f->gzip || f->chunk_size || mf_find(&p, f->href))
            continue;
        if (dir_resolve(&p, f->href, &local) == -1)
            goto out;
        if (local == NULL)
            continue;
        r = dir_data(&p, f->href, local, &m);
        free(m.local);
        free(m.digest);
        if (r == -1)
            goto out;
    }
    if (pkg_note_unlisted(&p) == -1)
        goto out;
    vm = pkg_finish(&p);
out:
    pkg_free(&p);
    return vm;
}

size_t
ova_dir_find_ovf(const char *dir, char **path)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    *path = NULL;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ova_ends_with(e->d_name, ".ovf"))
            continue;
        if (n++ == 0 && asprintf(path, "%s/%s", dir, e->d_name) == -1)
            *path = NULL;
    }
    closedir(d);
    if (n != 1) {
        free(*path);
        *path = NULL;
    }
    return n;
}

struct vmc_vm *
ova_read_dir(struct vmc_handle *h, const char *dir,
             const struct vmc_read_options *opts)
{
    CLEANUP_FREE char *ovf = NULL;
    size_t n = ova_dir_find_ovf(dir, &ovf);

    if (n != 1 || ovf == NULL) {
        vmc_error(h, "%s: the directory holds %zu .ovf files: give the one "
                  "to read", dir, n);
        return NULL;
    }
    return ova_read_ovf_file(h, ovf, opts);
}
