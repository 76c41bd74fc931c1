/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: the helpers every reader of untrusted bytes
 * needs (full reads and writes, range checks, bounded allocation), and
 * small utilities (random bytes, CRC-32C).  Not installed.
 */
#ifndef VMCONV_UTIL_H
#define VMCONV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>
#include <vmconv/util.h>

/* ---- Files -------------------------------------------------------- */

/* Read LEN bytes at OFFSET from FD into BUF, retrying short reads.
 * A file ending before OFFSET + LEN is an error naming PATH and OFFSET.
 * Returns 0 or -1 with an error set on H.
 */
int vmc_pread_full(struct vmc_handle *h, const char *path, int fd,
                   void *buf, size_t len, uint64_t offset);
int vmc_pwrite_full(struct vmc_handle *h, const char *path, int fd,
                    const void *buf, size_t len, uint64_t offset);

/* Check that [OFFSET, OFFSET + LEN) lies inside a file of FILE_SIZE
 * bytes; WHAT names the structure ("L1 table").  Returns 0, or -1 with
 * "PATH: WHAT at offset N length M is outside the file (S bytes)".
 */
int vmc_check_range(struct vmc_handle *h, const char *path,
                    uint64_t file_size, uint64_t offset, uint64_t len,
                    const char *what);

/* malloc/calloc that refuse sizes above VMC_MAX_ALLOC with an error
 * naming PATH and WHAT, so a hostile header can't make us allocate
 * gigabytes.  Return NULL with an error set.
 */
#define VMC_MAX_ALLOC (256ull * 1024 * 1024)
void *vmc_malloc(struct vmc_handle *h, const char *path, uint64_t size,
                 const char *what);
void *vmc_calloc(struct vmc_handle *h, const char *path, uint64_t nmemb,
                 uint64_t size, const char *what);

/* Allocate ALIGN-aligned memory (posix_memalign). */
void *vmc_aligned_alloc(struct vmc_handle *h, size_t align, size_t size);

/* Fill BUF with random bytes (UUIDs/GUIDs for new images). */
void vmc_random_bytes(void *buf, size_t len);

/* CRC-32C (Castagnoli), as VHDX uses: crc32c(0, p, n) for a fresh CRC. */
uint32_t vmc_crc32c(uint32_t crc, const void *p, size_t len);

/* ---- Names written by another hypervisor (core/foreign.c) ------- */

/* True if PATH (absolute, canonical) is ROOT or below it. */
bool vmc_path_is_inside(const char *path, const char *root);

/* vmc_resolve_foreign_name with the policy root ROOT (canonical; may
 * differ from BASE, as a backing file's directory differs from the top
 * image's) and FILE, the file holding NAME, named first in errors (or
 * NULL).  Sets *LOCAL to the name found, relative to BASE unless
 * absolute.
 */
int vmc_foreign_resolve(struct vmc_handle *h, const char *name,
                        const char *base, const char *root, unsigned flags,
                        const char *file, const char *what, char **local);

/* ---- Byte-range source names (core/util.c) ---------------------- */

/* A source image named "range:OFFSET:LENGTH:PATH" (VMC_RANGE_PREFIX,
 * <vmconv/convert.h>) is the image stored in the bytes [OFFSET, OFFSET
 * + LENGTH) of the local file PATH: a disk inside an OVA, as the vmware
 * plugin names it in the model.  Returns 1 and sets *PATH (pointing
 * inside NAME), *OFFSET and *LENGTH; 0 if NAME is not of that form; -1
 * with an error if it starts so but is malformed.
 */
int vmc_range_name_parse(struct vmc_handle *h, const char *name,
                         const char **path, uint64_t *offset,
                         uint64_t *length);

/* A source image named "concat:COUNT" (COUNT at most
 * VMC_CONCAT_MAX_PARTS, <vmconv/convert.h>) followed COUNT times by
 * ":OFFSET:LENGTH:PATHLENGTH:PATH" (VMC_CONCAT_PREFIX) is the image
 * stored in those byte ranges of those local files, one after the
 * other: a disk split into chunks.  PATH is exactly PATHLENGTH bytes,
 * so it may hold ':'.  Returns 1 and sets *PARTS (COUNT entries, free
 * with vmc_concat_parts_free) and *N; 0 if NAME is not of that form;
 * -1 with an error if it starts so but is malformed.
 */
struct vmc_name_part {
    char *path;
    uint64_t offset;
    uint64_t length;
};
int vmc_concat_name_parse(struct vmc_handle *h, const char *name,
                          struct vmc_name_part **parts, size_t *n);
void vmc_concat_parts_free(struct vmc_name_part *parts, size_t n);

/* "gzip:SOURCE" (VMC_GZIP_PREFIX): the image is the inflated contents
 * of SOURCE, a local file or a range: or concat: name.  Returns SOURCE
 * (inside NAME), or NULL if NAME does not start with "gzip:".
 */
const char *vmc_gzip_name_inner(const char *name);

/* True if the range:, concat: or gzip: source NAME reads the local
 * file PATH (same device and inode).
 */
bool vmc_source_name_holds(struct vmc_handle *h, const char *name,
                           const char *path);

#endif /* VMCONV_UTIL_H */
