/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv kvm plugin: what its parts share. */
#ifndef VMCONV_KVM_INTERNAL_H
#define VMCONV_KVM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <vmconv/plugin.h>

/* The largest domain XML read (virsh dumpxml of a big guest is tens of
 * KiB).
 */
#define KVM_XML_MAX (8u * 1024 * 1024)

/* Read parameters (kvm.c). */
struct kvm_read_params {
    const char *uri;             /* uri=URI: SOURCE is a domain there */
    bool allow_running;          /* allow-running=on */
};

/* Write parameters (kvm.c). */
struct kvm_write_params {
    const char *domain_type;     /* "kvm" (default) or "qemu" */
    bool replace;                /* replace=on */
};

int kvm_read_params_parse(struct vmc_handle *h, const char *source,
                          const struct vmc_read_options *opts,
                          struct kvm_read_params *p);
int kvm_write_params_parse(struct vmc_handle *h,
                           const struct vmc_write_options *opts,
                           struct kvm_write_params *p);

/* kvm-read.c: the domain XML DOC (named NAME in messages; BASE is the
 * directory relative source paths are taken in, or NULL) into a new VM.
 * CONN is a libvirt connection (virConnectPtr) to resolve pool/volume
 * disks through, or NULL.  A live domain (an id attribute) is refused
 * unless ALLOW_RUNNING.
 */
struct _xmlDoc;
struct vmc_vm *kvm_domain_to_vm(struct vmc_handle *h, struct _xmlDoc *doc,
                                const char *name, const char *base,
                                void *conn, bool allow_running);

/* kvm-virt.c: libvirt API.  Each fails with a plain error when vmconv
 * was built without libvirt.
 *
 * kvm_virt_read: read domain DOMNAME (a name or UUID) at URI, read-only.
 * kvm_virt_define: define the domain XML in FILE at URI (validated);
 * refuses an existing domain of the same name or UUID unless REPLACE.
 * kvm_virt_volume_path: the path of VOLUME in POOL through CONN, or
 * NULL with an error.
 */
struct vmc_vm *kvm_virt_read(struct vmc_handle *h, const char *uri,
                             const char *domname, bool allow_running);
int kvm_virt_define(struct vmc_handle *h, const char *uri, const char *file,
                    const char *name, const char *uuid, bool replace);
char *kvm_virt_volume_path(struct vmc_handle *h, void *conn,
                           const char *pool, const char *volume,
                           const char *what);

/* kvm-write.c */
int kvm_write_domain(struct vmc_handle *h, const struct vmc_vm *vm,
                     const struct vmc_write_options *opts);
int kvm_finish_domain(struct vmc_handle *h, const struct vmc_vm *vm,
                      const struct vmc_write_options *opts);

/* The domain name written for VM (kvm-write.c): VM's name when it can
 * name a libvirt domain, else OPTS->name.
 */
const char *kvm_domain_name(const struct vmc_vm *vm,
                            const struct vmc_write_options *opts);

#endif
