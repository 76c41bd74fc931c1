/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte-source back-end for NBD exports, through libnbd: a disk
 * served by nbdkit (ESXi over ssh or VDDK, remote volumes) or qemu-nbd.
 * Read-only.  Block status (base:allocation) becomes extents, so a raw
 * image over NBD copies sparsely.
 *
 * One connection; libnbd serialises the synchronous calls of several
 * threads on it.  Built only when configure finds libnbd; otherwise
 * file.c's vmc_file_nbd_open says so.
 *
 * libnbd is loaded with dlopen on the first NBD open, not linked:
 * linked, it pulls in GnuTLS, libxml2 and ICU, whose loading and
 * initialisation made every vmconv process start about 25 ms later
 * (8 million instructions), NBD or not.
 */
#include <config.h>

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "handle.h"

#include <libnbd.h>

#define LIBNBD_SONAME "libnbd.so.0"

/* The libnbd calls used, resolved by nbd_load. */
static struct {
    __typeof__(nbd_create) *create;
    __typeof__(nbd_close) *close;
    __typeof__(nbd_get_error) *get_error;
    __typeof__(nbd_add_meta_context) *add_meta_context;
    __typeof__(nbd_connect_uri) *connect_uri;
    __typeof__(nbd_get_size) *get_size;
    __typeof__(nbd_get_block_size) *get_block_size;
    __typeof__(nbd_can_meta_context) *can_meta_context;
    __typeof__(nbd_pread) *pread;
    __typeof__(nbd_block_status) *block_status;
    __typeof__(nbd_shutdown) *shutdown;
} lib;
static pthread_once_t nbd_once = PTHREAD_ONCE_INIT;
static char nbd_load_error[512] = "not loaded";  /* empty once loaded */

static void
nbd_load(void)
{
    void *dl = dlopen(LIBNBD_SONAME, RTLD_NOW | RTLD_LOCAL);

    if (dl == NULL)
        goto fail;
#define NBD_SYM(field)                                                  \
    if ((*(void **) &lib.field = dlsym(dl, "nbd_" #field)) == NULL)     \
        goto fail
    NBD_SYM(create);
    NBD_SYM(close);
    NBD_SYM(get_error);
    NBD_SYM(add_meta_context);
    NBD_SYM(connect_uri);
    NBD_SYM(get_size);
    NBD_SYM(get_block_size);
    NBD_SYM(can_meta_context);
    NBD_SYM(pread);
    NBD_SYM(block_status);
    NBD_SYM(shutdown);
#undef NBD_SYM
    nbd_load_error[0] = '\0';
    return;

fail:
    snprintf(nbd_load_error, sizeof nbd_load_error, "%s", dlerror());
    if (dl)
        dlclose(dl);
}

/* The largest request sent at once: the NBD protocol's usual limit. */
#define NBD_MAX_REQUEST (32u * 1024 * 1024)
/* The largest range asked about in one block status request. */
#define NBD_MAX_STATUS (1ull << 30)

struct nbd_file {
    struct vmc_file f;
    struct nbd_handle *nbd;
    uint64_t size;
    uint64_t max_request;
    bool block_status;          /* the server answers base:allocation */
};

static inline struct nbd_file *
nbd_of(struct vmc_file *f)
{
    return (struct nbd_file *) f;
}

static int
nbd_file_pread(struct vmc_file *f, void *buf, size_t count, uint64_t offset)
{
    struct nbd_file *n = nbd_of(f);
    uint8_t *p = buf;

    if (offset > n->size || count > n->size - offset) {
        vmc_error_kind(f->h, VMC_ERR_BAD_INPUT, "%s: unexpected end of "
                       "file reading %zu bytes at offset %" PRIu64, f->name,
                       count, offset);
        return -1;
    }
    while (count > 0) {
        size_t len = count < n->max_request ? count : n->max_request;

        if (lib.pread(n->nbd, p, len, offset, 0) == -1) {
            vmc_error_kind(f->h, VMC_ERR_IO, "%s: read at offset %" PRIu64
                           ": %s", f->name, offset, lib.get_error());
            return -1;
        }
        p += len;
        count -= len;
        offset += len;
    }
    return 0;
}

static int
nbd_file_get_size(struct vmc_file *f, uint64_t *size)
{
    *size = nbd_of(f)->size;
    return 0;
}

/* What one block status reply says from the requested offset. */
struct nbd_status {
    uint64_t want;              /* bytes asked about */
    uint64_t run;               /* bytes of TYPE found so far */
    enum vmc_file_extent type;
    bool have;
    bool done;                  /* the type changed */
};

static int
nbd_status_cb(void *opaque, const char *context, uint64_t offset,
              uint32_t *entries, size_t nr_entries, int *error)
{
    struct nbd_status *s = opaque;
    size_t i;

    if (strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
        return 0;
    for (i = 0; i + 1 < nr_entries && !s->done; i += 2) {
        /* Only the zero bit matters: a hole that does not read as
         * zeros still has to be read.
         */
        enum vmc_file_extent t = (entries[i + 1] & LIBNBD_STATE_ZERO)
            ? VMC_FILE_HOLE : VMC_FILE_DATA;

        if (entries[i] == 0)
            continue;
        if (!s->have) {
            s->type = t;
            s->have = true;
        } else if (t != s->type) {
            s->done = true;
            break;
        }
        s->run += entries[i];
        if (s->run >= s->want)
            s->done = true;
    }
    return 0;
}

static int
nbd_file_extents(struct vmc_file *f, uint64_t offset, uint64_t length,
                 enum vmc_file_extent *type, uint64_t *run)
{
    struct nbd_file *n = nbd_of(f);
    struct nbd_status s = { 0 };

    if (offset >= n->size) {
        *type = VMC_FILE_HOLE;
        *run = length;
        return 0;
    }
    if (length > n->size - offset)
        length = n->size - offset;
    if (!n->block_status) {
        *type = VMC_FILE_DATA;
        *run = length;
        return 0;
    }
    s.want = length < NBD_MAX_STATUS ? length : NBD_MAX_STATUS;
    if (lib.block_status(n->nbd, s.want, offset,
                         (nbd_extent_callback) { .callback = nbd_status_cb,
                                                 .user_data = &s },
                         0) == -1) {
        vmc_error_kind(f->h, VMC_ERR_IO, "%s: block status at offset %"
                       PRIu64 ": %s", f->name, offset, lib.get_error());
        return -1;
    }
    if (!s.have) {
        vmc_error_kind(f->h, VMC_ERR_IO, "%s: block status at offset %"
                       PRIu64 ": the server sent no extent", f->name, offset);
        return -1;
    }
    *type = s.type;
    *run = s.run < length ? s.run : length;
    return 0;
}

static int
nbd_file_close(struct vmc_file *f)
{
    struct nbd_file *n = nbd_of(f);

    if (n->nbd) {
        lib.shutdown(n->nbd, 0);
        lib.close(n->nbd);
    }
    free(f->name);
    free(n);
    return 0;
}

static const struct vmc_file_ops nbd_ops = {
    .name = "nbd",
    .pread = nbd_file_pread,
    .get_size = nbd_file_get_size,
    .extents = nbd_file_extents,
    .close = nbd_file_close,
};

/* Connect N to URI and learn what the server offers. */
static int
nbd_file_connect(struct nbd_file *n, const char *uri)
{
    struct vmc_handle *h = n->f.h;
    int64_t size, max;
    int bs;

    n->nbd = lib.create();
    if (n->nbd == NULL ||
        lib.add_meta_context(n->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
        lib.connect_uri(n->nbd, uri) == -1) {
        vmc_error_kind(h, VMC_ERR_IO, "%s: %s", uri, lib.get_error());
        return -1;
    }
    size = lib.get_size(n->nbd);
    if (size == -1) {
        vmc_error_kind(h, VMC_ERR_IO, "%s: %s", uri, lib.get_error());
        return -1;
    }
    n->size = (uint64_t) size;
    max = lib.get_block_size(n->nbd, LIBNBD_SIZE_MAXIMUM);
    n->max_request = max > 0 && (uint64_t) max < NBD_MAX_REQUEST
        ? (uint64_t) max : NBD_MAX_REQUEST;
    bs = lib.can_meta_context(n->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION);
    n->block_status = bs == 1;
    vmc_debug(h, "%s: NBD export of %" PRIu64 " bytes, block status %s",
              uri, n->size, n->block_status ? "yes" : "no");
    return 0;
}

struct vmc_file *
vmc_file_nbd_open(struct vmc_handle *h, const char *uri)
{
    struct nbd_file *n;

    if (!vmc_file_is_nbd_uri(uri)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: not an NBD URI (nbd://, "
                       "nbds://, nbd+unix:// or nbds+unix://)", uri);
        return NULL;
    }
    pthread_once(&nbd_once, nbd_load);
    if (nbd_load_error[0]) {
        vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: cannot open an NBD "
                       "export: loading %s: %s", uri, LIBNBD_SONAME,
                       nbd_load_error);
        return NULL;
    }
    n = calloc(1, sizeof *n);
    if (n == NULL) {
        vmc_error(h, "%s: %m", uri);
        return NULL;
    }
    if (vmc_file_init(&n->f, &nbd_ops, h, uri, false) == -1) {
        free(n);
        return NULL;
    }
    if (nbd_file_connect(n, uri) == -1) {
        nbd_file_close(&n->f);
        return NULL;
    }
    return &n->f;
}
