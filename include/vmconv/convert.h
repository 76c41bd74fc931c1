/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv conversion jobs: one disk converted (open, refuse to
 * overwrite the source, create, copy, commit, verify) and the output
 * directory policy (a temporary directory beside the target, renamed
 * into place on success).  `vmconv disk convert` and the conversion
 * pipeline are built on these.
 *
 * Structs the caller allocates begin with _struct_size: initialise
 * them with their *_INIT macro so a library older than your header
 * reads (or writes) only the fields it knows.  Fields are only ever
 * added at the end.
 */
#ifndef VMCONV_CONVERT_H
#define VMCONV_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>
#include <vmconv/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- One disk ----------------------------------------------------- */

/* What vmc_disk_convert did (optional; filled on success). */
struct vmc_disk_stats {
    uint32_t _struct_size;
    /* Version 1: */
    const char *source_format;   /* the source's format (static) */
    uint64_t virtual_size;       /* bytes of the guest-visible disk */
    uint64_t skipped;            /* of them, not written: holes, zeros */
    double copy_seconds;         /* create, copy and commit */
    double verify_seconds;       /* 0 without verify */
};

#define VMC_DISK_STATS_INIT \
    { ._struct_size = sizeof (struct vmc_disk_stats) }

struct vmc_disk_job {
    uint32_t _struct_size;
    /* Version 1: */
    const char *src;             /* the source image (top of its chain);
                                    "range:OFFSET:LENGTH:PATH" names the
                                    image stored in those bytes of the
                                    file PATH (a disk inside an OVA),
                                    opened with vmc_image_open_range;
                                    "concat:..." and "gzip:..." names
                                    likewise (vmc_image_open_name)
                                    (write "./range:..." for a file of
                                    that name) */
    const char *src_format;      /* its format, NULL to probe */
    const char *dst;             /* the new image; must not exist as a
                                    file of the source chain */
    const char *dst_format;      /* required: "qcow2", "vmdk", ... */
    const char *create_options;  /* "key=value,..." or NULL */
    unsigned open_flags;         /* VMC_IMAGE_ALLOW_OUTSIDE,
                                    VMC_IMAGE_IGNORE_PARENT_ID; the source
                                    is always opened read-only */
    unsigned threads;            /* copy workers, 0 = default */
    size_t request_size;         /* bytes per request, 0 = default */
    bool verify;                 /* read DST back and compare with SRC */
    bool fsync;                  /* DST on disk before it appears */
    bool no_zero_detect;         /* write all-zero data too */
    int disk_index;              /* reported in events; -1 for none */
    struct vmc_disk_stats *stats; /* filled on success, or NULL */
    /* Version 2: */
    bool src_is_uri;             /* SRC is an NBD URI (nbd://,
                                    nbd+unix://...) opened with
                                    vmc_image_open_uri, not a file */
};

/* The prefix of a byte-range source name (see vmc_disk_job.src); a VM
 * model's disk path may be such a name (an OVA member read in place).
 */
#define VMC_RANGE_PREFIX "range:"

/* The prefixes of a concatenation source name ("concat:COUNT" then
 * COUNT times ":OFFSET:LENGTH:PATHLENGTH:PATH": a disk split into
 * chunks) and of a gzip-compressed source ("gzip:SOURCE", SOURCE a
 * local file or a range: or concat: name); see vmconv-vm-json(5) and
 * vmc_image_open_name.
 */
#define VMC_CONCAT_PREFIX "concat:"
#define VMC_GZIP_PREFIX "gzip:"
/* The most parts a concat: name may have. */
#define VMC_CONCAT_MAX_PARTS 65536u

#define VMC_DISK_JOB_INIT \
    { ._struct_size = sizeof (struct vmc_disk_job), .disk_index = -1 }

/* Convert the disk JOB->src (its whole backing chain, flattened) into
 * a new image JOB->dst.  Phases, each announced by PHASE_START and
 * PHASE_END events: "open" (the source chain, read-only), "create"
 * (refuses a DST that is any file of the source chain, also through a
 * symbolic or hard link), "copy" (progress events with done, total,
 * skipped), "commit" (DST appears under its name) and "verify" (with
 * JOB->verify: DST opened again and compared with the source; progress
 * events).  Cancellation (vmc_cancel) is checked between phases and
 * inside copy and verify.
 *
 * Returns 0, or -1 with the job's first error on H; its kind says
 * what failed (VMC_ERR_VERIFY: DST differs from the source; DST is
 * then left in place for inspection).  On any other failure nothing
 * is left under DST's name.  The source is never written.
 */
int vmc_disk_convert(struct vmc_handle *h, const struct vmc_disk_job *job);

/* ---- The output directory ----------------------------------------- */

struct vmc_outdir;

/* Check that OUTDIR can receive a new VM: it does not exist (and its
 * parent is a directory) or it is an empty directory.  Writes nothing.
 * Returns 0, or -1 with an error of kind VMC_ERR_USAGE (or VMC_ERR_IO)
 * naming OUTDIR.
 */
int vmc_outdir_check(struct vmc_handle *h, const char *outdir);

/* Check OUTDIR (as vmc_outdir_check), remove stale temporary
 * directories left beside it by vmconv processes that died (their
 * marker names a process that no longer runs), and make the temporary
 * directory ".NAME.vmconv-XXXXXX" beside OUTDIR, on the same
 * filesystem, where the caller writes the output.  Returns the
 * handle of the temporary directory, or NULL with an error set.
 */
struct vmc_outdir *vmc_outdir_create(struct vmc_handle *h,
                                     const char *outdir);

/* The temporary directory to write into. */
const char *vmc_outdir_tmpdir(const struct vmc_outdir *o);

/* Rename the temporary directory to OUTDIR.  rename(2) does it in one
 * step: if OUTDIR does not exist it appears whole; if it is (still) an
 * empty directory, it is replaced atomically; if meanwhile it became
 * anything else (a file, a non-empty directory), nothing is replaced
 * and the call fails.  An OUTDIR that existed keeps its permission
 * bits (not its owner).  Returns 0, or -1 with an error set (the
 * temporary directory is still there; vmc_outdir_abort removes it).
 */
int vmc_outdir_commit(struct vmc_outdir *o);

/* Remove the temporary directory and everything in it (unless
 * committed) and free O.  Accepts NULL.  After a signal, call it from
 * normal code once the work has stopped (vmc_cancel from the signal
 * handler stops it), not from the handler itself.
 */
void vmc_outdir_abort(struct vmc_outdir *o);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_CONVERT_H */
