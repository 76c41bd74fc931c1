/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: the conversion pipeline's state, shared by
 * core/pipeline.c (the stages), core/plan.c (the plan), core/verify.c
 * (reading target disks back) and core/disk-source.c (a bare disk
 * image as a source).  Not installed.
 */
#ifndef VMCONV_PIPELINE_INTERNAL_H
#define VMCONV_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include <vmconv/convert.h>
#include <vmconv/pipeline.h>
#include <vmconv/plugin.h>

/* One drive of the source VM and what the plan does with it. */
struct pl_disk {
    size_t index;                /* in vm->disks */
    bool convert;                /* an image to convert */
    const char *skip_why;        /* else why not (static) */
    char *src_path;
    char *src_format;            /* probed */
    char *read_uri;              /* after the guest fix: the fixed disk
                                    (nbdkit's overlay), which the copy
                                    and the verify read instead */
    uint64_t virtual_size;
    uint64_t allocated;          /* host bytes of the chain's files */
    uint64_t data;               /* guest bytes holding data (block status) */
    struct json_object *chain;   /* [{path, format}], top first */
    char *file;                  /* target file name ("web01-disk1.qcow2") */
    char *tmp_path;              /* inside the temporary directory */
    char *final_path;            /* inside OUTDIR */
    const char *dst_format;      /* static (from caps or options) */
    char *create_options;
    uint64_t need;               /* host bytes the target will take */
    /* Results. */
    bool copied;
    struct vmc_disk_stats stats;
    uint64_t written;            /* host bytes of the target file(s) */
    char *sha256;                /* of the target file (raw targets) */
    bool verified;
    double verify_seconds;
    uint64_t verify_bytes;       /* bytes read back (both sides) */
    char *error;                 /* its failure, if it failed */
    enum vmc_error_kind error_kind;
};

/* Guest conversion (issue 16, core/guest/).  Inspection at plan time,
 * so that the plan shows the guest and chooses devices it has (or
 * will have) drivers for: inspect the guest on the source disks PATHS
 * (N, NULL entries skipped; FORMATS alike, NULL probes), opened with
 * IMAGE_FLAGS.  Sets *REPORT to a JSON object (its "status" says what
 * happened) and *GUEST to the facts found (NULL when no operating
 * system could be inspected: not an error).  With SESS, an inspected
 * guest's nbdkit servers (copy-on-write overlays over the source
 * disks) and appliance stay up for the fix: *SESS.  Returns 0, or -1
 * with an error set on H (out of memory, cancelled).  NULL when vmconv
 * is built without guest conversion.
 */
struct vmc_guest_session;
typedef int (*vmc_guest_inspect_fn)(struct vmc_handle *h, size_t n,
                                    const char *const *paths,
                                    const char *const *formats,
                                    unsigned image_flags,
                                    struct vmc_guest_info **guest,
                                    struct json_object **report,
                                    struct vmc_guest_session **sess);
extern vmc_guest_inspect_fn vmc_pipeline_guest_inspect;

/* The guest-fix stage: fix the guest of SESS (inspected at plan time)
 * for the target plugin TARGET, the VM coming from SOURCE ("vmware",
 * "hyperv", "kvm", "disk"), its devices as the target model VM has
 * them; append each change made to CHANGES (JSON strings).  The writes
 * go to the overlays: afterwards the disks are read through
 * vmc_guest_session_uri.  *GUEST holds what inspection found.
 * Returns 0, or -1 with an error set on H.
 */
typedef int (*vmc_guest_fix_fn)(struct vmc_handle *h,
                                struct vmc_guest_session *sess,
                                const struct vmc_vm *vm, const char *source,
                                const char *target,
                                struct json_object *changes,
                                struct vmc_guest_info **guest);
extern vmc_guest_fix_fn vmc_pipeline_guest_fix;

/* The NBD URI serving disk I of SESS's VM (the fixed guest's view of
 * it), malloc'd, or NULL when disk I is not served.
 */
char *vmc_guest_session_uri(const struct vmc_guest_session *sess, size_t i);
/* Stop SESS's appliance and nbdkit servers (their overlays go with
 * them) and free it.  Accepts NULL.
 */
void vmc_guest_session_close(struct vmc_guest_session *sess);

struct pl_digests;

struct pipeline {
    struct vmc_handle *h;
    pthread_mutex_t lock;                /* WARNINGS, from any thread */
    struct vmc_convert_options o;        /* the caller's, copied */
    const char *to;                      /* target plugin name */
    struct vmc_loaded_plugin *target;
    const struct vmc_target_caps *caps;  /* NULL if it declares none */
    const char *source_kind;             /* plugin name or "disk" */
    struct vmc_vm *vm;                   /* the source, as read */
    struct vmc_vm *tvm;                  /* the target model */
    char *name;
    char *outdir;                        /* absolute */
    size_t nr_disks;
    struct pl_disk *disks;               /* one per vm->disks */
    const char **tmp_paths;              /* per disk, NULL if none */
    const char **final_paths;
    struct vmc_outdir *out;
    bool committed;                      /* OUTDIR is in place */
    bool blocked;                        /* a risk stops the conversion */
    bool checking;                       /* in the target's check: its
                                            warnings are risks */
    enum vmc_error_kind block_kind;
    char *block_msg;
    /* The document (vmconv-convert/1). */
    struct json_object *doc;
    struct json_object *risks;           /* array */
    struct json_object *warnings;        /* array of strings */
    struct json_object *devices;         /* array: device changes */
    struct json_object *guest_changes;   /* array of strings */
    struct vmc_guest_info *guest;        /* inspected at plan time */
    struct vmc_guest_session *guest_session; /* kept for the fix */
    struct json_object *guest_report;    /* what inspection said */
    struct json_object *stages;          /* array */
    struct pl_digests *digests;          /* left by the reader, or NULL */
    char *report_path;
    char *json_text;
    /* The caller's event handler, called after ours. */
    vmc_event_fn user_event_fn;
    void *user_event_opaque;
    /* The caller's log handler, called by ours (pipeline_log). */
    vmc_log_fn user_log_fn;
    void *user_log_opaque;
};

/* pipeline-digest.c: the digests the reader left to the pipeline
 * (vmc_vm_add_digest).  vmc_pl_digests_plan lists them in the document
 * ("digests") after the read: 0 or -1.  vmc_pl_digests_start starts
 * hashing them in a thread, calling FAILED(OPAQUE) from it when one
 * differs or cannot be read (to stop the copies): 0 or -1.
 * vmc_pl_digests_join waits for that thread.  vmc_pl_digests_finish
 * joins, then with FINISH hashes what the thread did not get to (it
 * stops when the handle is cancelled), records the results in the
 * document and returns 0 (all matched), 1 (some not checked: cancelled)
 * or -1 with the error of the first that differs or could not be read.
 * All do nothing without digests.
 */
int vmc_pl_digests_plan(struct pipeline *p);
int vmc_pl_digests_start(struct pipeline *p, void (*failed)(void *opaque),
                         void *opaque);
void vmc_pl_digests_join(struct pipeline *p);
int vmc_pl_digests_finish(struct pipeline *p, bool finish);
void vmc_pl_digests_free(struct pl_digests *dg);

/* plan.c */
int vmc_pl_read_source(struct pipeline *p);
int vmc_pl_plan(struct pipeline *p);
/* Add a risk: SEVERITY "error" stops the conversion (the first one's
 * KIND and message become the error), "warning" does not.
 */
void vmc_pl_risk(struct pipeline *p, const char *severity,
                 enum vmc_error_kind kind, const char *id,
                 const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* disk-source.c: a bare disk image as a one-disk VM.  *FORMAT is set
 * to the probed format on success.
 */
bool vmc_pl_disk_probe(struct vmc_handle *h, const char *source,
                       const char **format, bool any_format);
struct vmc_vm *vmc_pl_disk_read(struct pipeline *p, const char *format);

/* verify.c: compare the guest-visible contents of SRC and DST with
 * THREADS workers.  Returns 0 (same), 1 (different, *FIRST_DIFF set)
 * or -1 with an error set.  Adds the bytes read to *BYTES.
 */
int vmc_pl_compare(struct vmc_image *src, struct vmc_image *dst,
                   unsigned threads, uint64_t *first_diff, uint64_t *bytes);

/* Open a source disk read-only: PATH is a file, an NBD URI
 * ("nbd://...", "nbd+unix://...") opened with vmc_image_open_uri, or a
 * byte range of a file ("range:OFFSET:LENGTH:PATH", a disk read in place
 * inside an OVA), chunks or gzip data ("concat:...", "gzip:...") opened
 * with vmc_image_open_name.
 */
struct vmc_image *vmc_pl_open_source(struct vmc_handle *h, const char *path,
                                     const char *format, unsigned flags);
bool vmc_pl_is_uri(const char *path);

/* Small helpers. */
double vmc_pl_now(void);
void vmc_pl_json_str(struct json_object *o, const char *key, const char *s);
void vmc_pl_json_u64(struct json_object *o, const char *key, uint64_t v);

#endif /* VMCONV_PIPELINE_INTERNAL_H */
