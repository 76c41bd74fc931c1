/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reproducible output for writers: with SOURCE_DATE_EPOCH set (the
 * reproducible-builds convention), identifiers that are random by
 * design (VMDK CID and ddb.uuid, VHDX GUIDs, VHD unique id) are derived
 * from a hash of the data written, the virtual size and the writer's
 * options, and timestamps are the epoch.  Not installed.
 */
#ifndef VMCONV_REPRO_H
#define VMCONV_REPRO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct vmc_repro {
    bool on;                     /* SOURCE_DATE_EPOCH is set */
    uint64_t epoch;              /* its value, seconds since 1970 */
    uint64_t salt;               /* size and options, see _salt */
    _Atomic uint64_t sum;        /* hash of the data written so far */
};

/* Read SOURCE_DATE_EPOCH into R (R->on false if it is unset or empty).
 * A value that is not a decimal number of seconds is an error naming
 * PATH (the image being created).  Returns 0 or -1.
 */
int vmc_repro_init(struct vmc_handle *h, const char *path,
                   struct vmc_repro *r);

/* Mix a writer parameter (virtual size, block size, subformat...) into
 * the seed of R's identifiers.
 */
void vmc_repro_salt(struct vmc_repro *r, uint64_t v);
void vmc_repro_salt_str(struct vmc_repro *r, const char *s);

/* Account for LEN bytes of guest data BUF written at guest OFFSET.
 * Thread-safe.  The hash is linear in the bytes at their guest offsets,
 * so it does not depend on how the data is split into writes or in
 * which order they come, and bytes that are zero add nothing (writing
 * zeros and leaving a hole hash alike).  Cheap no-op when R is off.
 */
void vmc_repro_data(struct vmc_repro *r, const void *buf, size_t len,
                    uint64_t offset);

/* Fill OUT (LEN bytes) with the identifier named LABEL derived from
 * everything R saw.  Only meaningful when R->on.
 */
void vmc_repro_id(struct vmc_repro *r, const char *label, void *out,
                  size_t len);

#endif /* VMCONV_REPRO_H */
