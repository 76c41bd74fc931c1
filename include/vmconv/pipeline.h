/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv conversion pipeline: one VM moved to another hypervisor.
 *
 *   read the source (a plugin, or a bare disk image)
 *   -> plan (target devices, disk formats and files, network mapping,
 *      free space, risks)
 *   -> guest fix (the guest fixed for the target in nbdkit's
 *      copy-on-write overlays over the source disks: core/guest/)
 *   -> disks (vmc_disk_convert for each, several at once; after a guest
 *      fix they read the fixed guest through NBD)
 *   -> verify (every target disk read back and compared with its
 *      source, as the guest fix left it)
 *   -> write (the target plugin, into a temporary directory)
 *   -> commit (the temporary directory renamed to OUTDIR)
 *   -> finish (the target's post-commit step, e.g. define in libvirt)
 *   -> report (OUTDIR/NAME.report.json)
 *
 * Every stage is announced by PHASE_START / PHASE_END events (phase
 * "read", "plan", "guest-fix", "disks", "verify", "write", "commit",
 * "finish", "report"; disk -1); inside "disks" and "verify" each disk
 * sends its own events (disk = its index in the source VM).  The plan
 * and the report are JSON documents of the schema "vmconv-convert/1"
 * described in vmconv-convert-json(5).
 *
 * The caller loads the plugins (vmc_plugins_load) first; a bare disk
 * image is read by the core itself (source "disk").
 *
 * Structs the caller allocates begin with _struct_size: initialise
 * them with their *_INIT macro.  Fields are only ever added at the end.
 */
#ifndef VMCONV_PIPELINE_H
#define VMCONV_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How target disks are allocated on the host (-oa). */
enum vmc_allocation {
    VMC_ALLOCATION_SPARSE,       /* "sparse": holes and zeros not written */
    VMC_ALLOCATION_PREALLOCATED, /* "preallocated": every byte of the
                                    virtual disk allocated on the host */
    VMC_ALLOCATION_LAST
};

struct vmc_convert_options {
    uint32_t _struct_size;
    /* Version 1: */
    const char *source;          /* what to convert: a path or a URI */
    const char *from;            /* the source plugin, "disk" for a bare
                                    disk image, or NULL to probe: the
                                    plugin most sure of SOURCE; a file no
                                    plugin claims is read as a bare disk
                                    image if formats/ recognises it */
    const char *to;              /* the target plugin; NULL: "kvm" */
    const char *outdir;          /* a new or empty directory */
    const char *name;            /* the new VM's name and base of its
                                    file names; NULL: the source VM's
                                    name, else SOURCE's base name */
    const char *disk_format;     /* target disk format; NULL: the
                                    target's default (its first) */
    const char *disk_options;    /* "key=value,..." create options of
                                    the target disks, or NULL */
    enum vmc_allocation allocation;
    const char *tmpdir;          /* work directory of the source plugin
                                    (an OVA's extracted members); NULL:
                                    $TMPDIR or /var/tmp */
    unsigned jobs;               /* disks converted at once; 0 = 1 */
    unsigned threads;            /* copy workers per disk; 0 = default */
    bool dry_run;                /* read, inspect and plan; write nothing */
    bool no_verify;              /* skip the verify stage */
    bool no_guest_fix;           /* skip the guest-fix stage */
    bool no_space_check;         /* write even if the estimate of the
                                    space needed exceeds the free space
                                    of OUTDIR's filesystem */
    unsigned image_flags;        /* VMC_IMAGE_ALLOW_OUTSIDE,
                                    VMC_IMAGE_IGNORE_PARENT_ID */
    /* A bare disk source's hardware (0 / UNKNOWN: guessed, and the plan
     * says so).  Also override what a plugin read when set.
     */
    unsigned vcpus;
    uint64_t memory;             /* bytes */
    int firmware;                /* enum vmc_firmware; 0 = not given */
    /* Network mapping: "SRC:DST" maps the NICs on network SRC to the
     * named network DST (--network) or the host bridge DST (--bridge);
     * "DST" alone maps every NIC no other entry maps.
     */
    size_t nr_networks;
    const char *const *networks;
    size_t nr_bridges;
    const char *const *bridges;
    const char *libvirt_uri;     /* the target defines the VM there */
    size_t nr_read_params;       /* "key=value" for the source plugin */
    const char *const *read_params;
    size_t nr_write_params;      /* "key=value" for the target plugin */
    const char *const *write_params;
};

#define VMC_CONVERT_OPTIONS_INIT \
    { ._struct_size = sizeof (struct vmc_convert_options) }

/* The outcome of vmc_convert: the plan, and once the conversion ran,
 * the report.
 */
struct vmc_conversion;

/* Convert the VM OPTS->source as OPTS says.  With OPTS->dry_run, read
 * and plan only: nothing is written.
 *
 * Returns 0, or -1 with an error on H whose kind says what failed
 * (vmconv(1) maps kinds to exit codes): VMC_ERR_USAGE (options),
 * VMC_ERR_BAD_INPUT / VMC_ERR_UNSUPPORTED (the source), VMC_ERR_IO /
 * VMC_ERR_NO_SPACE, VMC_ERR_VERIFY, VMC_ERR_INTERRUPTED (vmc_cancel).
 * A dry run fails (after planning) when the plan holds a risk that
 * stops a conversion (a missing disk, not enough space).  On failure
 * before "commit" nothing is left under OUTDIR and no temporary
 * directory remains; the message says so and that the source was not
 * touched.  When finish fails after the commit, the files stay in
 * OUTDIR and the message says so.
 *
 * If RESULT is not NULL it receives the conversion (also on failure,
 * once the source was read: the plan, and the report so far), or NULL
 * if there is none.  Free it with vmc_conversion_free.  vmc_cancel(H)
 * stops the conversion; H stays cancelled afterwards.
 */
int vmc_convert(struct vmc_handle *h, const struct vmc_convert_options *opts,
                struct vmc_conversion **result);

/* The conversion as one JSON document (vmconv-convert-json(5)): the
 * plan, and the result of each stage that ran.  The string belongs to
 * C and is valid until vmc_conversion_free.  Pretty-printed when PRETTY.
 */
const char *vmc_conversion_json(struct vmc_conversion *c, bool pretty);

/* Where the report was written (OUTDIR/NAME.report.json), or NULL if
 * none was (a dry run, a failure). */
const char *vmc_conversion_report_path(const struct vmc_conversion *c);

void vmc_conversion_free(struct vmc_conversion *c);

/* The name of an allocation ("sparse"), or NULL if out of range; the
 * value named S, or -1.
 */
const char *vmc_allocation_to_string(enum vmc_allocation v);
int vmc_allocation_from_string(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_PIPELINE_H */
