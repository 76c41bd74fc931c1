/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: OVF envelopes and OVA packages (internal).
 *
 * ovf.c parses an envelope into the VM model and lists the package
 * files the model's disks need (struct ovf_desc); ova.c finds those
 * files in an OVA (tar) or beside an .ovf, checks the manifest, and
 * points each disk at its bytes; ova-write.c writes an OVA.
 */
#ifndef VMWARE_OVF_H
#define VMWARE_OVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/plugin.h>

/* Limits for hostile envelopes. */
#define OVF_MAX_SIZE      (16u * 1024 * 1024)  /* an .ovf is KBs */
#define OVF_MAX_FILES     4096                 /* References/File */
#define OVF_MAX_VCPUS     4096
#define OVF_MAX_MEMORY    (UINT64_C(64) << 40) /* 64 TiB */
#define OVF_MAX_CAPACITY  (UINT64_C(1) << 60)  /* 1 EiB per disk */

/* One References/File. */
struct ovf_file {
    char *id;
    char *href;                  /* as written, checked: relative, no
                                    "..", no URL, no backslash */
    uint64_t size;               /* ovf:size, valid if HAS_SIZE */
    bool has_size;
    bool gzip;                   /* ovf:compression="gzip" */
    uint64_t chunk_size;         /* ovf:chunkSize, 0 if not chunked */
};

/* A model disk (vm->disks[DISK]) whose image is package file FILE. */
struct ovf_disk_ref {
    size_t disk;
    size_t file;                 /* index in desc->files */
    uint64_t capacity;           /* bytes, from the DiskSection */
};

/* What ovf_parse returns: the model and the files its disks need. */
struct ovf_desc {
    struct vmc_vm *vm;
    size_t nr_files;
    struct ovf_file *files;
    size_t nr_refs;
    struct ovf_disk_ref *refs;
    ptrdiff_t nvram_file;        /* the File holding the firmware's
                                    variables (vmw:ExtraConfig nvram =
                                    "ovf:/file/ID"), or -1 */
};

void ovf_desc_free(struct ovf_desc *d);

/* Parse the envelope BUF (LEN bytes, named NAME in messages) into D.
 * VM_NAME (or NULL) picks one VirtualSystem of a VirtualSystemCollection
 * by ovf:id or Name.  Returns 0, or -1 with one error set on H naming
 * NAME and the element.
 */
int ovf_parse(struct vmc_handle *h, const char *name, const void *buf,
              size_t len, const char *vm_name, struct ovf_desc *d);

/* Read an .ovf file (in a directory with its .mf and disks) or an OVA
 * (tar, also gzip/xz-compressed, or zip) into a VM.  Returns NULL with
 * one error set on H.
 */
struct vmc_vm *ova_read_ovf_file(struct vmc_handle *h, const char *path,
                                 const struct vmc_read_options *opts);
struct vmc_vm *ova_read_ova(struct vmc_handle *h, const char *path,
                            const struct vmc_read_options *opts);

/* A directory holding one .ovf (with its .mf and disks): the number
 * of .ovf files in DIR, and when it is 1, *PATH (malloc'd) names it.
 * ova_read_dir reads that .ovf, or fails saying how many there are.
 */
size_t ova_dir_find_ovf(const char *dir, char **path);
struct vmc_vm *ova_read_dir(struct vmc_handle *h, const char *dir,
                            const struct vmc_read_options *opts);

/* Write VM as the OVA OPTS->outdir/OPTS->name.ova, from the converted
 * streamOptimized VMDKs opts->disk_tmp_paths.  Returns 0 or -1.
 */
int ova_write(struct vmc_handle *h, const struct vmc_vm *vm,
              const struct vmc_write_options *opts);

/* The value of parameter KEY in PARAMS ("key=value"), or NULL. */
const char *vmware_param(size_t nr, const char *const *params,
                         const char *key);

#endif /* VMWARE_OVF_H */
