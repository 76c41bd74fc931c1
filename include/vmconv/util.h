/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv: helpers for plugins (and for the library itself): reading
 * configuration files, decoding UTF-16, finding the local file behind a
 * name another hypervisor wrote, parsing values with errors that name
 * what was parsed, reading XML safely, and manifest digests.
 *
 * Every function that can fail sets one error on H naming the file or
 * WHAT it was given and returns -1 or NULL.  Strings returned are
 * malloc'd; the caller frees them.  <vmconv/plugin.h> includes this
 * header.
 */
#ifndef VMCONV_UTIL_H_PUBLIC
#define VMCONV_UTIL_H_PUBLIC

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Error hints ---------------------------------------------------- */

/* What the caller could change to get past the last error, when the
 * library knows.  Messages never spell an application's options; an
 * application shows the hint in its own terms (the vmconv command
 * appends "(use --ignore-parent-id to read it anyway)").  Every new
 * error resets the hint to VMC_HINT_NONE; vmc_set_error_hint, called
 * right after vmc_error, sets it.
 */
enum vmc_error_hint {
    VMC_HINT_NONE = 0,
    VMC_HINT_ALLOW_OUTSIDE = 1,    /* VMC_IMAGE_ALLOW_OUTSIDE would follow
                                      the name */
    VMC_HINT_IGNORE_PARENT_ID = 2, /* VMC_IMAGE_IGNORE_PARENT_ID would open
                                      the chain */
    VMC_HINT_CREATE_OPTIONS = 3,   /* vmc_image_create_help lists the
                                      options the format accepts */
    VMC_HINT_LAST
};

enum vmc_error_hint vmc_get_error_hint(struct vmc_handle *h);
void vmc_set_error_hint(struct vmc_handle *h, enum vmc_error_hint hint);

/* ---- Files ---------------------------------------------------------- */

/* Read the whole regular file PATH (at most MAX bytes) into a malloc'd
 * buffer and set *LEN to its length.  Binary-safe: the bytes are
 * returned as they are, followed by one NUL that is not counted in
 * *LEN.  Refuses directories, FIFOs and devices, and files larger
 * than MAX, with an error naming PATH.  Returns NULL with an error.
 */
void *vmc_read_file_len(struct vmc_handle *h, const char *path, size_t max,
                        size_t *len);

/* Read the whole regular text file PATH (at most MAX bytes) into a
 * malloc'd, NUL-terminated string.  A file holding a NUL byte is
 * refused ("PATH: not a text file (NUL byte at offset N)"): it would
 * silently end the text early.  Returns NULL with an error naming
 * PATH.
 */
char *vmc_read_file(struct vmc_handle *h, const char *path, size_t max);

/* Write the LEN bytes at BUF into PATH, a file this call creates (0644
 * less the umask; an existing PATH, also a symbolic link, is refused:
 * a plugin never overwrites), and have it on disk (fsync) before
 * returning.  For the configuration files a target plugin writes into
 * its output directory.  On any error nothing is left under PATH.
 * Returns 0, or -1 with an error naming PATH (kind VMC_ERR_NO_SPACE
 * for a full filesystem, VMC_ERR_IO otherwise).
 */
int vmc_write_file_new(struct vmc_handle *h, const char *path,
                       const void *buf, size_t len);

/* ---- UTF-16 --------------------------------------------------------- */

enum vmc_utf16_order {
    VMC_UTF16_LE = 0,            /* little-endian, a BOM is text */
    VMC_UTF16_BE = 1,            /* big-endian, a BOM is text */
    VMC_UTF16_BOM_LE = 2,        /* honour and drop a leading BOM;
                                    little-endian without one */
    VMC_UTF16_BOM_BE = 3,        /* the same, big-endian without one */
    VMC_UTF16_ORDER_LAST
};

/* Flags for vmc_utf16_to_utf8. */
#define VMC_UTF16_STOP_AT_NUL 0x1u  /* a NUL code unit ends the string
                                       (fixed-size fields padded with
                                       NULs); without it, a NUL is an
                                       error */

/* Decode LEN_BYTES bytes of UTF-16 at P into a malloc'd UTF-8 string
 * and set *OUT_LEN (if not NULL) to its length.  Surrogate pairs are
 * joined.  An odd length, an unpaired surrogate or (without
 * VMC_UTF16_STOP_AT_NUL) a NUL code unit is an error "WHAT: ...",
 * naming the byte offset; WHAT names the string with its file
 * ("disk.vhd: header parent name").  Returns NULL with an error, or
 * without one when H is NULL (for strings that are only shown).
 */
char *vmc_utf16_to_utf8(struct vmc_handle *h, const void *p,
                        size_t len_bytes, enum vmc_utf16_order order,
                        unsigned flags, const char *what, size_t *out_len);

/* ---- Names written by another hypervisor ---------------------------- */

/* Flags for vmc_resolve_foreign_name.  VMC_IMAGE_ALLOW_OUTSIDE (0x4,
 * <vmconv/image.h>) has the same value and meaning here.
 */
#define VMC_FOREIGN_ALLOW_OUTSIDE 0x4u  /* results may leave BASE */
#define VMC_FOREIGN_MISSING_OK  0x100u  /* not found is no error */

/* Find the local file behind NAME, a file name as a VM configuration
 * or a parent locator wrote it, relative to BASE (the directory of the
 * file that holds NAME).  NAME may be:
 *   - relative ("disk.vmdk", "sub\disk.vhd", "..\parent.vhdx"):
 *     looked up in BASE as it is;
 *   - a Windows path ("C:\Hyper-V\Virtual Hard Disks\x.vhdx"), a UNC
 *     path ("\\server\share\vm\x.vhd", "\\?\Volume{...}\x.vhdx"), an
 *     ESXi path ("/vmfs/volumes/DATASTORE/vm/x.vmdk") or a datastore
 *     path ("[datastore1] vm/x.vmdk"): the path after the drive,
 *     share or datastore is looked up in BASE, then its last
 *     component alone in BASE (a VM folder copied off its host keeps
 *     its files together);
 *   - another absolute path: used when it exists, else its last
 *     component is looked up in BASE.
 * Backslashes separate components.  When a name does not exist as
 * spelled, components are matched ignoring case, as on Windows and
 * VMFS (a name matching several files that way is an error).  A
 * result leading outside BASE (by "..", an absolute path or a
 * symbolic link) is refused unless VMC_FOREIGN_ALLOW_OUTSIDE is given.
 * WHAT names NAME in errors ("disk.vmx: scsi0:0.fileName").
 *
 * Returns 0 and sets *LOCAL to the malloc'd local path (BASE joined
 * with what was found, or the absolute path).  When nothing is found:
 * with VMC_FOREIGN_MISSING_OK returns 0 with *LOCAL NULL and no error
 * (a plugin marks the disk missing), else -1 with an error.  Returns
 * -1 with an error for a refused or ambiguous name.
 */
int vmc_resolve_foreign_name(struct vmc_handle *h, const char *name,
                             const char *base, unsigned flags,
                             const char *what, char **local);

/* ---- Parsing values -------------------------------------------------- */

/* Each sets *VAL, or returns -1 with the error "WHAT: 'S' is not ..."
 * (WHAT names the value with its file and line or key:
 * "vm.vmx: line 4: memsize").
 *
 * vmc_parse_bool: yes/no, true/false, on/off, 1/0, in any case.
 * vmc_parse_uint: decimal digits only, at most MAX.
 * vmc_parse_size_what: a decimal number with an optional binary suffix
 *   K, M, G, T or P (also KiB, KB ...): "65536", "64K", "2GiB"; at
 *   most INT64_MAX bytes.  (vmc_parse_size in <vmconv/vmconv.h> is the
 *   same parser without the error.)
 */
int vmc_parse_bool(struct vmc_handle *h, const char *what, const char *s,
                   bool *val);
int vmc_parse_uint(struct vmc_handle *h, const char *what, const char *s,
                   uint64_t max, uint64_t *val);
int vmc_parse_size_what(struct vmc_handle *h, const char *what,
                        const char *s, uint64_t *val);

/* ---- XML ------------------------------------------------------------- */

/* libxml2's document (xmlDocPtr); free it with xmlFreeDoc. */
struct _xmlDoc;

/* Parse the XML file PATH (at most MAX bytes) or the LEN bytes at BUF
 * (NAME names them in errors) safely: no network access, no entity
 * substitution, no DTD loading or validation; a document declaring
 * entities or a DOCTYPE with an internal subset is refused.  UTF-8,
 * and UTF-16 with a byte order mark (Hyper-V 2012 R2 writes that), are
 * accepted.  Errors name the file and the line.  Returns the document
 * or NULL with an error.
 */
struct _xmlDoc *vmc_xml_read_file(struct vmc_handle *h, const char *path,
                                  size_t max);
struct _xmlDoc *vmc_xml_read_memory(struct vmc_handle *h, const void *buf,
                                    size_t len, const char *name);

/* ---- Digests (OVA manifests) ----------------------------------------- */

enum vmc_digest {
    VMC_DIGEST_SHA1 = 0,
    VMC_DIGEST_SHA256 = 1,
    VMC_DIGEST_LAST
};

/* The longest hex digest plus its NUL. */
#define VMC_DIGEST_HEX_MAX 65

struct vmc_digest_ctx;

/* Streaming: new, update any number of times, then final writes the
 * lower-case hex digest into HEX (VMC_DIGEST_HEX_MAX bytes) and frees
 * the context.  vmc_digest_free frees a context without finishing it
 * (accepts NULL).  vmc_digest_new returns NULL with an error.
 */
struct vmc_digest_ctx *vmc_digest_new(struct vmc_handle *h,
                                      enum vmc_digest kind);
void vmc_digest_update(struct vmc_digest_ctx *c, const void *buf,
                       size_t len);
void vmc_digest_final(struct vmc_digest_ctx *c, char *hex);
void vmc_digest_free(struct vmc_digest_ctx *c);

/* The hex digest of the whole regular file PATH into HEX.  Stops with
 * the error "cancelled" when vmc_cancel(H) is called.  Returns 0, or -1
 * with an error naming PATH.
 */
int vmc_digest_file(struct vmc_handle *h, enum vmc_digest kind,
                    const char *path, char *hex);

/* The digest's name as OVA manifests spell it ("SHA1", "SHA256"), or
 * NULL.  vmc_digest_from_name accepts those in any case, or returns -1.
 */
const char *vmc_digest_name(enum vmc_digest kind);
int vmc_digest_from_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_UTIL_H_PUBLIC */
