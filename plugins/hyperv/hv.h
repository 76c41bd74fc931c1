/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: what its files share.
 *
 * A Hyper-V configuration, whether the XML of 2012 / 2012 R2 or the
 * binary .vmcx of 2016 and later, is one tree of named keys with typed
 * values ("configuration/settings/processors/count" = 2).  hv-xml.c and
 * vmcx.c each turn their file into that tree (struct hv_node);
 * hv-config.c gives the keys their meaning in the VM model.  hv-json.c
 * reads the JSON of samples/hyperv/ (Get-VM ... | ConvertTo-Json), and
 * hv-write.c writes the PowerShell script of a target.
 */
#ifndef VMCONV_HYPERV_HV_H
#define VMCONV_HYPERV_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/plugin.h>

/* Limits on a tree (hostile files). */
#define HV_MAX_NODES   200000
#define HV_MAX_DEPTH   64
#define HV_MAX_STRING  (1u << 20)   /* bytes of one value */

enum hv_type {
    HV_NODE,                     /* a container (children only) */
    HV_INT,                      /* I */
    HV_UINT,                     /* U */
    HV_DOUBLE,                   /* D */
    HV_STRING,                   /* S: UTF-8 */
    HV_BYTES,                    /* BYTES, LEN */
    HV_BOOL,                     /* B */
};

struct hv_node {
    char *name;
    enum hv_type type;
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    char *s;
    uint8_t *bytes;
    size_t len;
    struct hv_node *parent;
    struct hv_node **kids;
    size_t nr_kids, alloc_kids;
    char where[40];              /* "line 12", "offset 0x3039": errors */
    uint32_t seq;                /* .vmcx: insertion sequence among its */
    size_t order;                /* siblings; ORDER: position in the file */
};

/* A new node named NAME (copied) appended to PARENT's children (PARENT
 * may be NULL for a root).  Returns NULL when out of memory.
 */
struct hv_node *hv_node_add(struct hv_node *parent, const char *name,
                            size_t name_len);
/* Append the detached node N to PARENT's children.  Returns 0, or -1
 * when out of memory.
 */
int hv_node_attach(struct hv_node *parent, struct hv_node *n);
void hv_tree_free(struct hv_node *root);

/* The first child of N named NAME (ASCII case-insensitive), or NULL. */
const struct hv_node *hv_child(const struct hv_node *n, const char *name);
/* Follow PATH ("settings/memory/bank/size") from N, or NULL. */
const struct hv_node *hv_get(const struct hv_node *n, const char *path);
/* The string value at PATH, or NULL if absent or not a string. */
const char *hv_str(const struct hv_node *n, const char *path);

/* The full path of N ("configuration/settings/processors/count") into
 * BUF.
 */
const char *hv_path(const struct hv_node *n, char *buf, size_t len);

/* ---- Readers of the tree ---------------------------------------------- */

/* The 2012 / 2012 R2 XML configuration in BUF (LEN bytes) as a tree
 * whose root is the <configuration> element.  Sets *RELABELLED when a
 * file declaring UTF-16 held 8-bit text (read as UTF-8).  Returns NULL
 * with one error naming NAME.
 */
struct hv_node *hv_xml_parse(struct vmc_handle *h, const void *buf,
                             size_t len, const char *name, bool *relabelled);

/* The "HyperVStorage" container (.vmcx, .vmrs) in BUF (LEN bytes) as a
 * tree whose root is a nameless node holding the top-level keys
 * ("configuration").  Returns NULL with one error naming NAME and the
 * offset of what is refused.  vmcx.c.
 */
struct hv_node *vmcx_parse(struct vmc_handle *h, const void *buf, size_t len,
                           const char *name);

/* ---- Into the model ------------------------------------------------------ */

/* What one read knows about where it is. */
struct hv_source {
    const char *path;            /* the configuration file read */
    char *dir;                   /* its directory */
    char *export_dir;            /* the export folder (holding "Virtual
                                    Machines"), or NULL */
    const struct vmc_read_options *opts;
};

/* Fill a new VM from the configuration tree CONFIG (the
 * <configuration> node).  Returns the VM or NULL with one error.
 */
struct vmc_vm *hv_config_to_vm(struct vmc_handle *h, const struct hv_node *config,
                               const struct hv_source *src);

/* Find the local file for NAME (a Windows path written by Hyper-V): in
 * the export folder's "Virtual Hard Disks" and "Snapshots", the
 * configuration's directory, the export folder.  *LOCAL is NULL when
 * not found.  Returns 0, or -1 with an error (a refused name).
 */
int hv_find_file(struct vmc_handle *h, const struct hv_source *src,
                 const char *name, const char *what, char **local);

/* Open the disk D->path read-only: format, size, backing chain. */
int hv_open_disk(struct vmc_handle *h, struct vmc_vm *vm,
                 const struct hv_source *src, struct vmc_disk *d);

/* The JSON written by samples/hyperv/vmconv-hyperv-export.ps1 in TEXT. */
struct vmc_vm *hv_json_read(struct vmc_handle *h, const char *text,
                            const struct hv_source *src);

/* Write OPTS->name.ps1 into OPTS->outdir.  hv-write.c. */
int hv_write(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts);

#endif /* VMCONV_HYPERV_HV_H */
