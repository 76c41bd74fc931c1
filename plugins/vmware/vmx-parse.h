/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: the .vmx / .vmsd dictionary parser.
 *
 * A .vmx is lines of `key = "value"`.  vmx_parse_* turn the text into
 * a dictionary of lower-cased keys and UTF-8 values (|XX escapes
 * decoded, the .encoding converted through iconv), refusing anything
 * that is not that syntax with one error naming the file and line.
 * It knows nothing about what the keys mean: vmx.c does.
 */
#ifndef VMCONV_VMX_PARSE_H
#define VMCONV_VMX_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <vmconv/vmconv.h>

/* The largest .vmx or .vmsd read (VMware's own files are a few KiB;
 * guestInfo data makes the biggest a few hundred).
 */
#define VMX_MAX_FILE (8u * 1024 * 1024)
/* The longest line. */
#define VMX_MAX_LINE (1u * 1024 * 1024)

struct vmx_entry {
    char *key;                   /* lower case */
    char *value;                 /* UTF-8, unescaped, no NUL inside */
    unsigned line;               /* where it was (the last duplicate) */
    char *name;                  /* the key as written there */
};

struct vmx_dict {
    char *name;                  /* the file, for messages */
    char *encoding;              /* .encoding as written, or NULL */
    bool encoding_guessed;       /* no .encoding, and the text was not
                                    UTF-8: read as windows-1252 */
    size_t nr;                   /* entries sorted by key, unique */
    struct vmx_entry *e;
};

/* Parse the file PATH (at most VMX_MAX_FILE bytes), opened read-only.
 * Returns the dictionary (free with vmx_dict_free) or NULL with one
 * error set on H naming PATH and, for syntax errors, the line.
 */
struct vmx_dict *vmx_parse_file(struct vmc_handle *h, const char *path);

/* The same for the LEN bytes at BUF, named NAME in messages. */
struct vmx_dict *vmx_parse_buffer(struct vmc_handle *h, const char *buf,
                                  size_t len, const char *name);

void vmx_dict_free(struct vmx_dict *d);

/* The value of KEY (any case), or NULL if absent. */
const char *vmx_get(const struct vmx_dict *d, const char *key);

/* The entry of KEY, or NULL. */
const struct vmx_entry *vmx_find(const struct vmx_dict *d, const char *key);

/* vmx_get of the key made by printf(FMT, ...). */
const char *vmx_getf(const struct vmx_dict *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* VMCONV_VMX_PARSE_H */
