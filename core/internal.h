/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv internals, all of them: includes the headers of each
 * concern.  New code includes only the ones it needs:
 *
 *   handle.h   the handle: errors, logging, progress, cancellation
 *   util.h     full reads/writes, range checks, bounded allocation
 *   opts.h     "key=value,..." option strings
 *   driver.h   (formats/) the format driver contract and struct vmc_image
 *
 * Not installed; plugins see only include/vmconv/.
 */
#ifndef VMCONV_INTERNAL_H
#define VMCONV_INTERNAL_H

#include "bytes.h"
#include "cleanup.h"
#include "handle.h"
#include "util.h"
#include "opts.h"
#include "driver.h"

#endif /* VMCONV_INTERNAL_H */
