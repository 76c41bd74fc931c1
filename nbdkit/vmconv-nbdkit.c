/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkit-vmconv-plugin: serve a disk image that vmconv reads (raw,
 * qcow2, VMDK, VHDX/AVHDX, VHD, with their backing chains) over NBD,
 * read-only, with extents.
 *
 *   nbdkit vmconv file=IMAGE [format=FMT] [allow-outside-paths=true]
 *                 [ignore-parent-id=true] [offset=N] [length=N]
 *
 * The image is opened once, before nbdkit starts serving (so a missing
 * or damaged image stops nbdkit with a message naming the file), and
 * shared by every connection.  libvmconv's image handle is safe for
 * reads and block status from several threads at once (the format
 * driver contract in formats/driver.h; the copy engine reads so), so
 * the thread model is PARALLEL and multi-conn is advertised: every
 * connection sees the same unchanging bytes.
 *
 * The plugin never writes: it has no pwrite, zero, trim or flush, so
 * nbdkit serves the export read-only, and the image (with every file of
 * its chain) is opened without VMC_IMAGE_RDWR, that is O_RDONLY.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

/* Extents returned for one request at most, so a client asking about
 * a whole fragmented disk gets an answer quickly (it asks again from
 * where the answer ended).
 */
#define VMCONV_MAX_EXTENTS 1024

/* nbdkit -D vmconv.verbose=1: libvmconv's debug messages. */
NBDKIT_DLL_PUBLIC int vmconv_debug_verbose = 0;

/* Configuration. */
static char *filename;          /* absolute path of file= */
static char *format;            /* format=, NULL to probe */
static unsigned open_flags;     /* VMC_IMAGE_* (never VMC_IMAGE_RDWR) */
static bool have_offset;
static uint64_t range_offset;   /* offset= */
static bool have_length;
static uint64_t range_length;   /* length= */

/* The image, shared by all connections. */
static struct vmc_handle *h;
static struct vmc_image *img;

static void
vmconv_unload(void)
{
    vmc_image_close(img);
    vmc_free(h);
    free(filename);
    free(format);
}

/* Parse a boolean option into FLAG of open_flags. */
static int
vmconv_config_flag(const char *key, const char *value, unsigned flag)
{
    int r = nbdkit_parse_bool(value);

    if (r == -1)
        return -1;              /* nbdkit_parse_bool said why */
    if (r)
        open_flags |= flag;
    else
        open_flags &= ~flag;
    return 0;
}

/* Parse a size option into *VAL. */
static int
vmconv_config_size(const char *key, const char *value, uint64_t *val)
{
    int64_t r = nbdkit_parse_size(value);

    if (r == -1)
        return -1;
    *val = (uint64_t) r;
    return 0;
}

static int
vmconv_config(const char *key, const char *value)
{
    if (strcmp(key, "file") == 0) {
        free(filename);
        filename = nbdkit_absolute_path(value);
        return filename ? 0 : -1;
    }
    if (strcmp(key, "format") == 0) {
        const char *const *f;

        for (f = vmc_image_formats(); *f; f++)
            if (strcmp(*f, value) == 0)
                break;
        if (*f == NULL) {
            nbdkit_error("format '%s' is not one vmconv reads (see "
                         "nbdkit vmconv --dump-plugin)", value);
            return -1;
        }
        free(format);
        format = strdup(value);
        if (format == NULL) {
            nbdkit_error("strdup: %m");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "allow-outside-paths") == 0)
        return vmconv_config_flag(key, value, VMC_IMAGE_ALLOW_OUTSIDE);
    if (strcmp(key, "ignore-parent-id") == 0)
        return vmconv_config_flag(key, value, VMC_IMAGE_IGNORE_PARENT_ID);
    if (strcmp(key, "offset") == 0) {
        have_offset = true;
        return vmconv_config_size(key, value, &range_offset);
    }
    if (strcmp(key, "length") == 0) {
        have_length = true;
        return vmconv_config_size(key, value, &range_length);
    }
    nbdkit_error("unknown parameter '%s'", key);
    return -1;
}

static int
vmconv_config_complete(void)
{
    if (filename == NULL) {
        nbdkit_error("you must supply the file=IMAGE parameter");
        return -1;
    }
    if (have_length && !have_offset) {
        have_offset = true;
        range_offset = 0;
    }
    return 0;
}

#define vmconv_config_help \
    "file=<IMAGE>   (required) The disk image to serve, read-only.\n" \
    "format=<FMT>              Its format (raw, qcow2, vmdk, vhdx, vpc);\n" \
    "                          probed from the content when not given.\n" \
    "allow-outside-paths=true  Follow backing files, parents and extents\n" \
    "                          leading outside the image's directory.\n" \
    "ignore-parent-id=true     Open a chain whose parent IDs do not match\n" \
    "                          (with a warning).\n" \
    "offset=<N>, length=<N>    Serve the image stored in this byte range\n" \
    "                          of the file (a disk inside an OVA)."

static void
vmconv_dump_plugin(void)
{
    const char *const *f;

    printf("vmconv_version=%s\n", vmc_version());
    printf("vmconv_formats=");
    for (f = vmc_image_formats(); *f; f++)
        printf("%s%s", f == vmc_image_formats() ? "" : ",", *f);
    printf("\n");
}

/* libvmconv's warnings go to stderr, as nbdkit's own messages do;
 * information and debug messages to nbdkit_debug (shown with -v).
 */
static void
vmconv_log(void *opaque, enum vmc_log_level level, const char *msg)
{
    if (level == VMC_LOG_WARNING)
        fprintf(stderr, "nbdkit: vmconv: warning: %s\n", msg);
    else
        nbdkit_debug("%s", msg);
}

/* Report the last libvmconv error through nbdkit and set the errno the
 * client receives.  WHAT says what failed when the message is missing.
 */
static void
vmconv_report(const char *what)
{
    const char *msg = vmc_get_error(h);
    int err = vmc_get_errno(h);

    nbdkit_error("%s", msg ? msg : what);
    nbdkit_set_error(err ? err : EIO);
}

/* The size of the file PATH, for offset= without length=. */
static int
vmconv_file_size(const char *path, uint64_t *size)
{
    struct stat st;

    if (stat(path, &st) == -1) {
        nbdkit_error("%s: %m", path);
        return -1;
    }
    *size = (uint64_t) st.st_size;
    return 0;
}

/* Open the image before nbdkit serves (and before it forks into the
 * background), so a bad image stops nbdkit with a clear error.
 */
static int
vmconv_get_ready(void)
{
    h = vmc_new();
    if (h == NULL) {
        nbdkit_error("vmc_new: %m");
        return -1;
    }
    vmc_set_log_handler(h, vmconv_log, NULL);
    vmc_set_verbose(h, vmconv_debug_verbose);

    if (have_offset) {
        if (!have_length) {
            uint64_t size;

            if (vmconv_file_size(filename, &size) == -1)
                return -1;
            if (range_offset > size) {
                nbdkit_error("%s: offset %" PRIu64 " is beyond the end of "
                             "the file (%" PRIu64 " bytes)", filename,
                             range_offset, size);
                return -1;
            }
            range_length = size - range_offset;
        }
        img = vmc_image_open_range(h, filename, range_offset, range_length,
                                   format, open_flags);
    } else
        img = vmc_image_open(h, filename, format, open_flags);
    if (img == NULL) {
        vmconv_report("cannot open the image");
        return -1;
    }
    nbdkit_debug("%s: %s image, virtual size %" PRIu64, vmc_image_path(img),
                 vmc_image_format(img), vmc_image_size(img));
    return 0;
}

static void *
vmconv_open(int readonly)
{
    return NBDKIT_HANDLE_NOT_NEEDED;
}

static const char *
vmconv_export_description(void *handle)
{
    return nbdkit_printf_intern("%s image %s", vmc_image_format(img),
                                vmc_image_path(img));
}

static int64_t
vmconv_get_size(void *handle)
{
    return (int64_t) vmc_image_size(img);
}

/* Every connection sees the same bytes: the image never changes. */
static int
vmconv_can_multi_conn(void *handle)
{
    return 1;
}

static int
vmconv_can_extents(void *handle)
{
    return 1;
}

/* Requests of whole clusters are the cheapest to serve. */
static int
vmconv_block_size(void *handle, uint32_t *minimum, uint32_t *preferred,
                  uint32_t *maximum)
{
    uint32_t cs = vmc_image_cluster_size(img);

    *minimum = 1;
    *preferred = 4096;
    if (cs >= 4096 && cs <= 32 * 1024 * 1024 && (cs & (cs - 1)) == 0)
        *preferred = cs;
    *maximum = 0xffffffff;
    return 0;
}

static int
vmconv_pread(void *handle, void *buf, uint32_t count, uint64_t offset,
             uint32_t flags)
{
    if (vmc_image_pread(img, buf, count, offset) == -1) {
        vmconv_report("read failed");
        return -1;
    }
    return 0;
}

/* vmconv's extent types as NBD block status: a hole is allocated
 * nowhere in the chain, a zero run is allocated (or marked) as zeros.
 */
static uint32_t
vmconv_extent_type(enum vmc_extent_type t)
{
    switch (t) {
    case VMC_EXTENT_HOLE:
        return NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;
    case VMC_EXTENT_ZERO:
        return NBDKIT_EXTENT_ZERO;
    case VMC_EXTENT_DATA:
    case VMC_EXTENT_LAST:
        break;
    }
    return 0;
}

static int
vmconv_extents(void *handle, uint32_t count, uint64_t offset, uint32_t flags,
               struct nbdkit_extents *extents)
{
    uint64_t end = offset + count;
    unsigned n = 0;

    while (offset < end) {
        enum vmc_extent_type t;
        uint64_t run;

        if (vmc_image_block_status(img, offset, end - offset, &t,
                                   &run) == -1) {
            vmconv_report("block status failed");
            return -1;
        }
        if (nbdkit_add_extent(extents, offset, run,
                              vmconv_extent_type(t)) == -1)
            return -1;
        offset += run;
        if ((flags & NBDKIT_FLAG_REQ_ONE) || ++n >= VMCONV_MAX_EXTENTS)
            break;
    }
    return 0;
}

static struct nbdkit_plugin plugin = {
    .name = "vmconv",
    .longname = "vmconv disk image plugin",
    .version = PACKAGE_VERSION,
    .description = "Serve a disk image vmconv reads (raw, qcow2, VMDK, "
                   "VHDX/AVHDX, VHD and their chains), read-only",
    .unload = vmconv_unload,
    .config = vmconv_config,
    .config_complete = vmconv_config_complete,
    .config_help = vmconv_config_help,
    .magic_config_key = "file",
    .dump_plugin = vmconv_dump_plugin,
    .get_ready = vmconv_get_ready,
    .open = vmconv_open,
    .export_description = vmconv_export_description,
    .get_size = vmconv_get_size,
    .can_multi_conn = vmconv_can_multi_conn,
    .can_extents = vmconv_can_extents,
    .block_size = vmconv_block_size,
    .pread = vmconv_pread,
    .extents = vmconv_extents,
    .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
