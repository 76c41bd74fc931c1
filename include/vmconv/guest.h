/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmconv: inspecting the guest operating system on a VM's disks.
 *
 * The disks are served read-only by nbdkit (nbdkit-vmconv-plugin under
 * the cow filter) to a libguestfs appliance: the source is never
 * written.  Needs vmconv built with libguestfs, nbdkit and the plugin
 * installed (or $VMCONV_NBDKIT_PLUGIN naming it).
 */
#ifndef VMCONV_GUEST_H_PUBLIC
#define VMCONV_GUEST_H_PUBLIC

#include <vmconv/vmconv.h>
#include <vmconv/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Inspect the guest on VM's hard disks, opening their images with
 * IMAGE_FLAGS (VMC_IMAGE_ALLOW_OUTSIDE, VMC_IMAGE_IGNORE_PARENT_ID).
 * Returns the "guest" JSON object described in vmconv(1) (inspect
 * --guest): its "status" says whether the guest could be inspected and
 * why not; a guest that cannot be inspected is not an error.  Returns
 * NULL with an error set on H when out of memory or cancelled.  The
 * caller frees the string.
 */
char *vmc_guest_inspect(struct vmc_handle *h, const struct vmc_vm *vm,
                        unsigned image_flags);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_GUEST_H_PUBLIC */
