/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Can KVM run guests on this host?  Shared by the kvm plugin (which
 * warns before writing a domain of type kvm) and the guest module
 * (which picks KVM or TCG for the libguestfs appliance).
 */
#ifndef VMCONV_COMMON_KVM_HOST_H
#define VMCONV_COMMON_KVM_HOST_H

#include <stdbool.h>

/* True if /dev/kvm opens, speaks the expected API, creates a VM and
 * offers guests the x86-64-v2 CPU features; otherwise false with *WHY
 * set to a sentence saying which of these failed.  Cheap: a few
 * ioctls, no guest is run (on some nested hosts all of this succeeds
 * and the vCPU still never runs: the guest module also boots its
 * firmware to be sure).
 */
bool vmc_kvm_host_usable(const char **why);

#endif
