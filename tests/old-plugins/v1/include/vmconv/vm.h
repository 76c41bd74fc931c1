/* vmconv: the neutral VM model.
 *
 * A struct vmc_vm describes one virtual machine without naming any
 * hypervisor: a source plugin fills it from a .vmx, a Hyper-V
 * configuration or a libvirt domain; the planner and a target plugin
 * read it.  vmc_vm_to_json / vmc_vm_from_json turn it into the
 * "vmconv-vm/1" JSON document described in vmconv-vm-json(5).
 *
 * Ownership and stability rules:
 *
 *  - Every structure here is allocated by libvmconv only (vmc_vm_new,
 *    vmc_vm_add_disk, ...), never by the caller, never copied by value.
 *    New fields are only ever added at the END of a structure, so code
 *    built against an older vm.h keeps working with a newer library.
 *  - Lists are arrays of pointers (DISKS[0 .. NR_DISKS-1]); the pointed
 *    elements belong to the VM.  Don't reorder or free them yourself.
 *  - Every char * field is NULL (unknown / not set) or a malloc'd
 *    NUL-terminated UTF-8 string owned by the VM; vmc_vm_free frees it.
 *    Set them with vmc_vm_set_string (or assign a malloc'd string after
 *    freeing the old one).
 *  - Numbers are 0 when unknown; sizes are in bytes.  Enums start with
 *    an UNKNOWN (or the most common) value, so a zeroed element is
 *    "nothing known".
 *  - Each enum has one table of names (vmc_disk_bus_to_string, ...),
 *    used by the JSON output and every other textual form.
 */
#ifndef VMCONV_VM_H
#define VMCONV_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmconv/vmconv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the model's structures.  Bumped whenever a structure
 * of this file grows (a field appended).  VMC_REGISTER_PLUGIN stamps it
 * into a plugin, and the loader refuses a plugin built for a newer
 * model than the library's: the library allocates the structures, so a
 * plugin writing fields the library does not know would write past
 * them.  Plugins built for an older model keep working.
 */
#define VMC_VM_MODEL_VERSION 1

/* Limits: a model holding more is refused (hostile sources). */
#define VMC_VM_MAX_DISKS      1024
#define VMC_VM_MAX_NICS        256
#define VMC_VM_MAX_SNAPSHOTS  1024
#define VMC_VM_MAX_NOTES      1024
#define VMC_VM_MAX_BACKING      64  /* backing chain entries per disk */

/* ---- Enums (each with one name table) ----------------------------- */

enum vmc_firmware {
    VMC_FIRMWARE_UNKNOWN,        /* "unknown" */
    VMC_FIRMWARE_BIOS,           /* "bios" */
    VMC_FIRMWARE_UEFI,           /* "uefi" */
    VMC_FIRMWARE_LAST
};

enum vmc_disk_device {
    VMC_DISK_DEVICE_DISK,        /* "disk" */
    VMC_DISK_DEVICE_CDROM,       /* "cdrom" */
    VMC_DISK_DEVICE_FLOPPY,      /* "floppy" */
    VMC_DISK_DEVICE_LUN,         /* "lun": raw device / passthrough */
    VMC_DISK_DEVICE_LAST
};

enum vmc_disk_bus {
    VMC_DISK_BUS_UNKNOWN,        /* "unknown" */
    VMC_DISK_BUS_IDE,            /* "ide" */
    VMC_DISK_BUS_SATA,           /* "sata" */
    VMC_DISK_BUS_SCSI,           /* "scsi" */
    VMC_DISK_BUS_VIRTIO,         /* "virtio" (virtio-blk) */
    VMC_DISK_BUS_NVME,           /* "nvme" */
    VMC_DISK_BUS_FDC,            /* "fdc": floppy controller */
    VMC_DISK_BUS_USB,            /* "usb" */
    VMC_DISK_BUS_LAST
};

/* The model of the controller a disk hangs on, when the source says. */
enum vmc_controller_model {
    VMC_CONTROLLER_MODEL_UNKNOWN,     /* "unknown" */
    VMC_CONTROLLER_MODEL_BUSLOGIC,    /* "buslogic" */
    VMC_CONTROLLER_MODEL_LSILOGIC,    /* "lsilogic" */
    VMC_CONTROLLER_MODEL_LSISAS1068,  /* "lsisas1068" */
    VMC_CONTROLLER_MODEL_PVSCSI,      /* "pvscsi": VMware paravirtual */
    VMC_CONTROLLER_MODEL_VIRTIO_SCSI, /* "virtio-scsi" */
    VMC_CONTROLLER_MODEL_HYPERV_SCSI, /* "hyperv-scsi": synthetic SCSI */
    VMC_CONTROLLER_MODEL_AHCI,        /* "ahci" */
    VMC_CONTROLLER_MODEL_PIIX3,       /* "piix3" */
    VMC_CONTROLLER_MODEL_PIIX4,       /* "piix4" */
    VMC_CONTROLLER_MODEL_LAST
};

enum vmc_nic_model {
    VMC_NIC_MODEL_UNKNOWN,       /* "unknown" */
    VMC_NIC_MODEL_E1000,         /* "e1000" */
    VMC_NIC_MODEL_E1000E,        /* "e1000e" */
    VMC_NIC_MODEL_VMXNET,        /* "vmxnet" */
    VMC_NIC_MODEL_VMXNET2,       /* "vmxnet2" */
    VMC_NIC_MODEL_VMXNET3,       /* "vmxnet3" */
    VMC_NIC_MODEL_PCNET,         /* "pcnet": AMD PCnet, VMware vlance */
    VMC_NIC_MODEL_VIRTIO,        /* "virtio" */
    VMC_NIC_MODEL_RTL8139,       /* "rtl8139" */
    VMC_NIC_MODEL_HYPERV_NETVSC, /* "hyperv-netvsc": synthetic adapter */
    VMC_NIC_MODEL_HYPERV_LEGACY, /* "hyperv-legacy": emulated DEC 21140 */
    VMC_NIC_MODEL_LAST
};

/* What a NIC's NETWORK names. */
enum vmc_net_type {
    VMC_NET_TYPE_UNKNOWN,        /* "unknown" */
    VMC_NET_TYPE_NETWORK,        /* "network": a named network, port
                                    group or virtual switch */
    VMC_NET_TYPE_BRIDGE,         /* "bridge": a host bridge */
    VMC_NET_TYPE_NAT,            /* "nat" */
    VMC_NET_TYPE_HOST_ONLY,      /* "host-only" */
    VMC_NET_TYPE_NONE,           /* "none": not connected */
    VMC_NET_TYPE_LAST
};

enum vmc_video_model {
    VMC_VIDEO_MODEL_UNKNOWN,     /* "unknown" */
    VMC_VIDEO_MODEL_NONE,        /* "none" */
    VMC_VIDEO_MODEL_VGA,         /* "vga" */
    VMC_VIDEO_MODEL_CIRRUS,      /* "cirrus" */
    VMC_VIDEO_MODEL_VMVGA,       /* "vmvga": VMware SVGA */
    VMC_VIDEO_MODEL_QXL,         /* "qxl" */
    VMC_VIDEO_MODEL_VIRTIO,      /* "virtio" */
    VMC_VIDEO_MODEL_BOCHS,       /* "bochs" */
    VMC_VIDEO_MODEL_HYPERV,      /* "hyperv": synthetic video */
    VMC_VIDEO_MODEL_LAST
};

enum vmc_os_family {
    VMC_OS_FAMILY_UNKNOWN,       /* "unknown" */
    VMC_OS_FAMILY_LINUX,         /* "linux" */
    VMC_OS_FAMILY_WINDOWS,       /* "windows" */
    VMC_OS_FAMILY_OTHER,         /* "other": known, neither of those */
    VMC_OS_FAMILY_LAST
};

/* Name of V ("ide"), or NULL if V is out of range.  The string is
 * static.
 */
const char *vmc_firmware_to_string(enum vmc_firmware v);
const char *vmc_disk_device_to_string(enum vmc_disk_device v);
const char *vmc_disk_bus_to_string(enum vmc_disk_bus v);
const char *vmc_controller_model_to_string(enum vmc_controller_model v);
const char *vmc_nic_model_to_string(enum vmc_nic_model v);
const char *vmc_net_type_to_string(enum vmc_net_type v);
const char *vmc_video_model_to_string(enum vmc_video_model v);
const char *vmc_os_family_to_string(enum vmc_os_family v);

/* The value named S (exact, lower case), or -1 if none is. */
int vmc_firmware_from_string(const char *s);
int vmc_disk_device_from_string(const char *s);
int vmc_disk_bus_from_string(const char *s);
int vmc_controller_model_from_string(const char *s);
int vmc_nic_model_from_string(const char *s);
int vmc_net_type_from_string(const char *s);
int vmc_video_model_from_string(const char *s);
int vmc_os_family_from_string(const char *s);

/* ---- The model ---------------------------------------------------- */

struct vmc_disk {
    char *path;                  /* the image file (top of its chain),
                                    absolute; NULL for an empty drive */
    char *format;                /* image format ("vmdk", "vhdx", "raw"
                                    as vmc_image_formats() names them),
                                    NULL if unknown */
    uint64_t virtual_size;       /* bytes, 0 if unknown */
    enum vmc_disk_device device;
    enum vmc_disk_bus bus;
    enum vmc_controller_model controller_model;
    unsigned controller;         /* controller index on its bus (scsi1 = 1) */
    unsigned unit;               /* position on that controller */
    unsigned boot_order;         /* 1 = first; 0 = not in the boot order */
    bool readonly;
    bool shareable;
    size_t nr_backing;           /* backing chain as the source names it: */
    char **backing;              /* [0] is PATH's parent, last the base */
};

struct vmc_nic {
    char *mac;                   /* "00:50:56:aa:bb:cc" (lower case), or
                                    NULL to let the target choose */
    enum vmc_nic_model model;
    enum vmc_net_type net_type;
    char *network;               /* network / bridge / switch / port
                                    group name, or NULL */
};

/* One disk file of a snapshot (checkpoint). */
struct vmc_snapshot_disk {
    int disk;                    /* index in vm->disks, or -1 if the disk
                                    is not in the current configuration */
    char *path;                  /* the file holding that disk's state as
                                    of the snapshot */
};

struct vmc_snapshot {
    char *id;                    /* unique among the VM's snapshots */
    char *name;
    char *parent;                /* id of the parent snapshot or NULL */
    char *description;
    int64_t created;             /* seconds since the epoch, 0 if unknown */
    size_t nr_disks;
    struct vmc_snapshot_disk **disks;
};

struct vmc_vm {
    struct vmc_handle *h;        /* the handle it was made with */

    char *name;
    char *uuid;                  /* SMBIOS UUID, canonical lower-case
                                    8-4-4-4-12 (vmc_uuid_normalize) */
    char *genid;                 /* VM generation ID, same form */
    char *description;
    char *source_plugin;         /* set by the core after a plugin read */
    char *source_path;           /* idem: what was read */

    enum vmc_firmware firmware;
    bool secure_boot;
    bool tpm;                    /* a virtual TPM is present */
    char *machine;               /* free-form hint: "q35", "pc",
                                    "vmx-19", "hyperv-gen2" */

    unsigned vcpus;
    unsigned cpu_sockets;        /* topology, 0 if unknown; when known, */
    unsigned cpu_cores;          /* sockets * cores * threads should */
    unsigned cpu_threads;        /* equal vcpus (not enforced here) */
    uint64_t memory;             /* bytes */

    enum vmc_os_family os_family;
    char *os_distro;             /* "rhel", "ubuntu", "windows" ... */
    char *os_version;            /* "9.2", "22.04", "2019" ... */
    char *os_arch;               /* "x86_64", "i686", "aarch64" */
    char *os_id;                 /* the source's own identifier:
                                    "rhel9-64", "windows9_64Guest" */

    enum vmc_video_model video;
    uint64_t vram;               /* bytes, 0 if unknown */

    size_t nr_disks;
    struct vmc_disk **disks;
    size_t nr_nics;
    struct vmc_nic **nics;
    size_t nr_snapshots;
    struct vmc_snapshot **snapshots;
    char *current_snapshot;      /* id of the snapshot the VM runs from */

    size_t nr_notes;             /* warnings from the source reader, */
    char **notes;                /* shown to the user and kept in plans */
};

/* A new empty VM (all zero) tied to H for error reporting.  Returns
 * NULL with an error set on H.  Free with vmc_vm_free.
 */
struct vmc_vm *vmc_vm_new(struct vmc_handle *h);

/* Free VM and everything it owns.  Accepts NULL. */
void vmc_vm_free(struct vmc_vm *vm);

/* Append a zeroed element to the VM's list and return it (owned by the
 * VM).  Return NULL with an error set on vm->h when out of memory or
 * past the VMC_VM_MAX_* limit.
 */
struct vmc_disk *vmc_vm_add_disk(struct vmc_vm *vm);
struct vmc_nic *vmc_vm_add_nic(struct vmc_vm *vm);
struct vmc_snapshot *vmc_vm_add_snapshot(struct vmc_vm *vm);
/* The new element's DISK is -1. */
struct vmc_snapshot_disk *vmc_snapshot_add_disk(struct vmc_vm *vm,
                                                struct vmc_snapshot *s);

/* Append PATH to DISK's backing chain.  Returns 0 or -1. */
int vmc_disk_add_backing(struct vmc_vm *vm, struct vmc_disk *disk,
                         const char *path);

/* Replace the string *FIELD (a char * field of VM or of one of its
 * elements) with a copy of VALUE (NULL clears it).  Returns 0 or -1
 * with an error set on vm->h.
 */
int vmc_vm_set_string(struct vmc_vm *vm, char **field, const char *value);

/* Append a note (a warning about the source) to the VM.  Returns 0 or
 * -1.
 */
int vmc_vm_add_note(struct vmc_vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- JSON (schema "vmconv-vm/1", see vmconv-vm-json(5)) ------------ */

#define VMC_VM_JSON_SCHEMA "vmconv-vm/1"
/* The largest JSON text vmc_vm_from_json accepts. */
#define VMC_VM_JSON_MAX (16u * 1024 * 1024)

/* The VM as pretty-printed JSON text ending with a newline.  The same
 * VM always gives the same text.  Returns a malloc'd string (the
 * caller frees it) or NULL with an error set on vm->h.
 */
char *vmc_vm_to_json(const struct vmc_vm *vm);

/* Parse TEXT (a vmconv-vm/1 document) into a new VM.  SOURCE_NAME
 * names the text in error messages ("vm.json: disks[1].bus: 'foo' is
 * not a disk bus (...)").  Returns the VM (free with vmc_vm_free) or
 * NULL with one error set on H.
 */
struct vmc_vm *vmc_vm_from_json(struct vmc_handle *h, const char *text,
                                const char *source_name);

/* ---- Identifier helpers for readers -------------------------------- */

#define VMC_UUID_LEN 36          /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define VMC_MAC_LEN 17           /* "xx:xx:xx:xx:xx:xx" */

/* Write the canonical lower-case form of the UUID IN to OUT.  IN holds
 * 32 hex digits, optionally separated by '-' or ' ' and optionally in
 * braces ("{...}"), so VMware's "56 4d 12 ... 34-56 78 ..." and
 * Hyper-V's "{GUID}" are both accepted.  Returns 0, or -1 if IN is not
 * a UUID (no error is set: the caller names the file and key).
 */
int vmc_uuid_normalize(const char *in, char out[VMC_UUID_LEN + 1]);

/* Write the canonical "xx:xx:xx:xx:xx:xx" lower-case form of the MAC
 * address IN ("00:50:56:AA:BB:CC", "00-15-5D-...", "00155d0a0b0c") to
 * OUT.  Returns 0, or -1 if IN is not a MAC address (no error set).
 */
int vmc_mac_normalize(const char *in, char out[VMC_MAC_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif /* VMCONV_VM_H */
