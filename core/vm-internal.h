/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM model internals shared by core/vm.c, core/vm-json.c and the code
 * that prints models: the enum name tables and the cleanup attribute.
 */
#ifndef VMCONV_VM_INTERNAL_H
#define VMCONV_VM_INTERNAL_H

#include <vmconv/util.h>
#include <vmconv/vm.h>

/* One enum's names: NAMES[v] for 0 <= v < LAST.  WHAT names the enum
 * in messages, with its article ("a disk bus").
 */
struct vmc_enum_table {
    const char *what;
    const char *const *names;
    int last;
};

extern const struct vmc_enum_table vmc_firmware_table;
extern const struct vmc_enum_table vmc_disk_device_table;
extern const struct vmc_enum_table vmc_disk_bus_table;
extern const struct vmc_enum_table vmc_controller_model_table;
extern const struct vmc_enum_table vmc_nic_model_table;
extern const struct vmc_enum_table vmc_net_type_table;
extern const struct vmc_enum_table vmc_video_model_table;
extern const struct vmc_enum_table vmc_os_family_table;
extern const struct vmc_enum_table vmc_nvram_kind_table;
extern const struct vmc_enum_table vmc_secure_boot_template_table;
extern const struct vmc_enum_table vmc_clock_table;
extern const struct vmc_enum_table vmc_serial_type_table;
extern const struct vmc_enum_table vmc_connection_table;
extern const struct vmc_enum_table vmc_mac_kind_table;
extern const struct vmc_enum_table vmc_graphics_table;

/* NAMES[V] or NULL when V is out of range. */
const char *vmc_enum_to_string(const struct vmc_enum_table *t, int v);
/* The value named S, or -1. */
int vmc_enum_from_string(const struct vmc_enum_table *t, const char *s);
/* "a, b, c": every name of T, malloc'd (NULL when out of memory). */
char *vmc_enum_names(const struct vmc_enum_table *t);

/* Check that every enum field of VM is inside its table.  Returns 0,
 * or -1 with an error on vm->h naming the field ("vm: disks[1].device:
 * 7 is not a disk device").  Used by vmc_vm_check and before writing
 * JSON, so that a reader's bug never serialises as a valid value.
 */
int vmc_vm_check_enums(const struct vmc_vm *vm);

/* A digest a reader left for the core to check (vmc_vm_add_digest). */
struct vmc_vm_digest {
    char *path;                  /* source name: file, range:, concat: */
    enum vmc_digest kind;
    char hex[VMC_DIGEST_HEX_MAX];  /* lower case */
    char *what;                  /* for messages */
};

/* The digests of VM, in the order they were added: *N of them (the
 * array belongs to VM).
 */
const struct vmc_vm_digest *vmc_vm_digests(const struct vmc_vm *vm,
                                           size_t *n);

void vmc_cleanup_vm_free(void *ptr);
#define CLEANUP_VMC_VM_FREE __attribute__((cleanup(vmc_cleanup_vm_free)))

#endif /* VMCONV_VM_INTERNAL_H */
