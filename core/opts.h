/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals: "key=value,..." option strings (image creation
 * options, -o).  Not installed.
 */
#ifndef VMCONV_OPTS_H
#define VMCONV_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

enum vmc_opt_type {
    VMC_OPT_STRING,
    VMC_OPT_SIZE,                /* 65536, 64K, 1M, 2G */
    VMC_OPT_BOOL,                /* on/off, yes/no, true/false, 1/0 */
    VMC_OPT_INT,
};

struct vmc_opt_desc {
    const char *name;
    enum vmc_opt_type type;
    const char *help;
};

struct vmc_opts;

/* Parse "k=v,k=v" (a value may hold ",," for a comma).  Every key must
 * be in DESC (terminated by a NULL name).  Returns NULL with an error.
 */
struct vmc_opts *vmc_opts_parse(struct vmc_handle *h, const char *format,
                                const char *text,
                                const struct vmc_opt_desc *desc);
void vmc_opts_free(struct vmc_opts *o);
/* The raw value of KEY or NULL if not given. */
const char *vmc_opts_get(const struct vmc_opts *o, const char *key);
/* Typed getters: set *VAL to the value or DFLT if absent.  Return 0 or
 * -1 (bad value, error names the key).
 */
int vmc_opts_get_size(struct vmc_handle *h, const struct vmc_opts *o,
                      const char *key, uint64_t dflt, uint64_t *val);
int vmc_opts_get_bool(struct vmc_handle *h, const struct vmc_opts *o,
                      const char *key, bool dflt, bool *val);
int vmc_opts_get_int(struct vmc_handle *h, const struct vmc_opts *o,
                     const char *key, int64_t dflt, int64_t *val);

#endif /* VMCONV_OPTS_H */
