/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: the .vmx reader (vmx.c), writer (vmx-write.c)
 * and the guestOS table they share (vmx-guestos.c).
 */
#ifndef VMCONV_VMWARE_VMX_H
#define VMCONV_VMWARE_VMX_H

#include <stdbool.h>

#include <vmconv/plugin.h>

/* Read the .vmx PATH (and the .vmsd beside it) into a new VM.  Returns
 * the VM or NULL with one error set on H.
 */
struct vmc_vm *vmx_read(struct vmc_handle *h, const char *path,
                        const struct vmc_read_options *opts);

/* Write VM as OPTS->outdir/OPTS->name.vmx.  Returns 0 or -1 with one
 * error set on H.
 */
int vmx_write(struct vmc_handle *h, const struct vmc_vm *vm,
              const struct vmc_write_options *opts);

/* What a VMware guestOS id says about the guest. */
struct vmx_guest {
    const char *id;              /* the id without "-64" / "arm-", lower
                                    case: "rhel9", "windows9" */
    enum vmc_os_family family;
    const char *distro;          /* NULL if the id names none */
    const char *version;         /* NULL if the id names none */
};

/* The entry of the guestOS ID (any case, "-64" and "arm-" allowed), or
 * NULL if the table does not know it.  *ARCH is set from the id
 * ("x86_64", "i686", "aarch64") in either case.
 */
const struct vmx_guest *vmx_guest_lookup(const char *id, const char **arch);

/* The guestOS id to write for VM (static or in BUF of LEN bytes):
 * VM's own os_id when it is a VMware id (a .vmx guestOS, or the OVF /
 * vSphere form "rhel9_64Guest"), else one chosen from the OS family,
 * distro, version and arch.  *EXACT is false when the id is a
 * fallback ("other-64") for an OS the table cannot name.
 */
const char *vmx_guest_for_vm(const struct vmc_vm *vm, char *buf, size_t len,
                             bool *exact);

#endif /* VMCONV_VMWARE_VMX_H */
