/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
 *    "nothing known".  The exceptions, where 0 is a real value, are
 *    signed and use -1 for unknown: a disk's CONTROLLER, UNIT and
 *    CONTROLLER_REF, and a snapshot disk's DISK.  vmc_vm_add_disk and
 *    vmc_snapshot_add_disk set those to -1.
 *  - Each enum has one table of names (vmc_disk_bus_to_string, ...),
 *    used by the JSON output and every other textual form.
 *  - A new field is handled in vmc_vm_free, vmc_vm_copy, the JSON
 *    writer and reader (core/vm*.c), the human print (core/cli/
 *    vm-print.c), vmconv-vm-json(5), and listed in the field table of
 *    tests/test-vm-fields.c, which fails until all of them do.  Bump
 *    VMC_VM_MODEL_VERSION and mark where the new version's fields
 *    start.
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
#define VMC_VM_MODEL_VERSION 3

/* Limits: a model holding more is refused (hostile sources). */
#define VMC_VM_MAX_DISKS      1024
#define VMC_VM_MAX_NICS        256
#define VMC_VM_MAX_SNAPSHOTS  1024
#define VMC_VM_MAX_NOTES      1024
#define VMC_VM_MAX_BACKING      64  /* backing chain entries per disk */
#define VMC_VM_MAX_CONTROLLERS 256
#define VMC_VM_MAX_SERIALS      64
#define VMC_VM_MAX_TMPFILES   1024
#define VMC_VM_MAX_DIGESTS   65536  /* a disk split into chunks has one
                                       per chunk */

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

/* The kind of file holding the firmware's variables (vm->nvram_path). */
enum vmc_nvram_kind {
    VMC_NVRAM_KIND_UNKNOWN,      /* "unknown" */
    VMC_NVRAM_KIND_VMWARE,       /* "vmware-nvram": VMware .nvram */
    VMC_NVRAM_KIND_OVMF_VARS,    /* "ovmf-vars": OVMF/AAVMF VARS.fd */
    VMC_NVRAM_KIND_HYPERV_VMGS,  /* "hyperv-vmgs": Hyper-V guest state */
    VMC_NVRAM_KIND_LAST
};

/* The Secure Boot keys the firmware trusts (Hyper-V's templates). */
enum vmc_secure_boot_template {
    VMC_SECURE_BOOT_TEMPLATE_UNKNOWN,   /* "unknown" */
    VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS,/* "microsoft-windows":
                                           MicrosoftWindows */
    VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA,/* "microsoft-uefi-ca": Microsoft
                                           UEFI CA (Linux shims) */
    VMC_SECURE_BOOT_TEMPLATE_OPEN_SOURCE_SHIELDED,
                                        /* "open-source-shielded-vm" */
    VMC_SECURE_BOOT_TEMPLATE_LAST
};

/* What the guest's real-time clock keeps. */
enum vmc_clock {
    VMC_CLOCK_UNKNOWN,           /* "unknown" */
    VMC_CLOCK_UTC,               /* "utc" */
    VMC_CLOCK_LOCALTIME,         /* "localtime": Windows guests */
    VMC_CLOCK_LAST
};

/* What a serial port is connected to on the host. */
enum vmc_serial_type {
    VMC_SERIAL_TYPE_UNKNOWN,     /* "unknown" */
    VMC_SERIAL_TYPE_NONE,        /* "none": present, not connected */
    VMC_SERIAL_TYPE_FILE,        /* "file": output to a file */
    VMC_SERIAL_TYPE_PIPE,        /* "pipe": a named pipe */
    VMC_SERIAL_TYPE_PTY,         /* "pty": a pseudo terminal */
    VMC_SERIAL_TYPE_TCP,         /* "tcp": a network socket (host:port,
                                    telnet URI) */
    VMC_SERIAL_TYPE_DEVICE,      /* "device": a host serial device */
    VMC_SERIAL_TYPE_LAST
};

/* Whether a removable medium or a NIC is connected (at power on). */
enum vmc_connection {
    VMC_CONNECTION_UNKNOWN,      /* "unknown" */
    VMC_CONNECTION_CONNECTED,    /* "connected" */
    VMC_CONNECTION_DISCONNECTED, /* "disconnected" */
    VMC_CONNECTION_LAST
};

/* Where a NIC's MAC address came from. */
enum vmc_mac_kind {
    VMC_MAC_KIND_UNKNOWN,        /* "unknown" */
    VMC_MAC_KIND_STATIC,         /* "static": set by the user */
    VMC_MAC_KIND_GENERATED,      /* "generated": by the hypervisor, kept
                                    in the configuration (VMware) */
    VMC_MAC_KIND_VPX,            /* "vpx-assigned": by vCenter */
    VMC_MAC_KIND_DYNAMIC,        /* "dynamic": chosen at each start
                                    (Hyper-V dynamic MAC) */
    VMC_MAC_KIND_LAST
};

/* The remote display the source offers (what a target may drop). */
enum vmc_graphics {
    VMC_GRAPHICS_UNKNOWN,        /* "unknown" */
    VMC_GRAPHICS_NONE,           /* "none": headless */
    VMC_GRAPHICS_VNC,            /* "vnc" */
    VMC_GRAPHICS_SPICE,          /* "spice" */
    VMC_GRAPHICS_RDP,            /* "rdp": Hyper-V VMConnect */
    VMC_GRAPHICS_SDL,            /* "sdl": a local window */
    VMC_GRAPHICS_VMWARE,         /* "vmware": the VMware console (MKS) */
    VMC_GRAPHICS_LAST
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
const char *vmc_nvram_kind_to_string(enum vmc_nvram_kind v);
const char *vmc_secure_boot_template_to_string(
    enum vmc_secure_boot_template v);
const char *vmc_clock_to_string(enum vmc_clock v);
const char *vmc_serial_type_to_string(enum vmc_serial_type v);
const char *vmc_connection_to_string(enum vmc_connection v);
const char *vmc_mac_kind_to_string(enum vmc_mac_kind v);
const char *vmc_graphics_to_string(enum vmc_graphics v);

/* The value named S (exact, lower case), or -1 if none is. */
int vmc_firmware_from_string(const char *s);
int vmc_disk_device_from_string(const char *s);
int vmc_disk_bus_from_string(const char *s);
int vmc_controller_model_from_string(const char *s);
int vmc_nic_model_from_string(const char *s);
int vmc_net_type_from_string(const char *s);
int vmc_video_model_from_string(const char *s);
int vmc_os_family_from_string(const char *s);
int vmc_nvram_kind_from_string(const char *s);
int vmc_secure_boot_template_from_string(const char *s);
int vmc_clock_from_string(const char *s);
int vmc_serial_type_from_string(const char *s);
int vmc_connection_from_string(const char *s);
int vmc_mac_kind_from_string(const char *s);
int vmc_graphics_from_string(const char *s);

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
    enum vmc_controller_model controller_model;  /* = the model of
                                    controllers[CONTROLLER_REF] when that
                                    is set (vmc_vm_check) */
    int controller;              /* controller index on its bus (scsi1 =
                                    1), -1 if unknown (model version 1:
                                    unsigned, 0 if unknown) */
    int unit;                    /* position on that controller, -1 if
                                    unknown (ide0:1 = unit 1) */
    unsigned boot_order;         /* 1 = first; 0 = not in the boot order */
    bool readonly;
    bool shareable;
    size_t nr_backing;           /* backing chain as the source names it: */
    char **backing;              /* [0] is PATH's parent, last the base */
    /* Model version 2. */
    char *source_ref;            /* the image (or ISO, device) exactly as
                                    the configuration wrote it:
                                    "[ds1] vm/vm.vmdk", "C:\VMs\a.vhdx";
                                    NULL if the source names none */
    bool missing;                /* SOURCE_REF names a file that was not
                                    found: PATH is NULL */
    uint32_t logical_block_size; /* bytes (512, 4096), 0 if unknown */
    uint32_t physical_block_size;
    int controller_ref;          /* index in vm->controllers of the
                                    controller this disk hangs on, -1 if
                                    none is listed */
    enum vmc_connection connection; /* removable media: connected at
                                    power on ("startConnected") */
    bool reference_only;         /* the target refers to the medium as it
                                    is (an ISO image, a host device)
                                    instead of converting it; a drive
                                    with neither PATH nor SOURCE_REF is
                                    empty (no medium) */
    /* Model version 3. */
    bool independent;            /* left out of the VM's snapshots
                                    (VMware independent-persistent and
                                    independent-nonpersistent) */
    bool nonpersistent;          /* the guest's writes are discarded at
                                    power off (VMware
                                    independent-nonpersistent, libvirt
                                    <transient/>) */
};

struct vmc_nic {
    char *mac;                   /* "00:50:56:aa:bb:cc" (lower case), or
                                    NULL to let the target choose */
    enum vmc_nic_model model;
    enum vmc_net_type net_type;
    char *network;               /* network / bridge / switch / port
                                    group name, or NULL */
    /* Model version 2. */
    char *network_orig;          /* NETWORK as the source named it,
                                    before any --network mapping; NULL
                                    if not mapped */
    unsigned vlan;               /* VLAN id 1..4094 (4095: VMware's
                                    "all VLANs" trunk); 0 = none or
                                    unknown */
    enum vmc_connection connection; /* connected at power on */
    enum vmc_mac_kind mac_kind;
};

/* One storage controller.  Disks refer to it by its position in
 * vm->controllers (vmc_disk.controller_ref).
 */
struct vmc_controller {
    enum vmc_disk_bus bus;
    unsigned index;              /* its number on that bus (scsi1 = 1) */
    enum vmc_controller_model model;
};

/* One serial port. */
struct vmc_serial {
    unsigned index;              /* port number: 0 = COM1 / ttyS0 */
    enum vmc_serial_type type;
    char *target;                /* the file, pipe, device or host:port
                                    it is connected to, or NULL */
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

    /* Model version 2. */
    char *source_version;        /* the source's own configuration or
                                    hardware version: "vmx-19" (VMware
                                    virtualHW.version), "9.0" (Hyper-V
                                    configuration version) */
    char *nvram_path;            /* the firmware variable store, absolute
                                    (VMware .nvram, Hyper-V .vmgs,
                                    libvirt <nvram>), NULL if none */
    enum vmc_nvram_kind nvram_kind;
    enum vmc_secure_boot_template secure_boot_template;
    enum vmc_clock clock;
    int64_t clock_offset;        /* seconds the guest's clock is ahead
                                    of CLOCK's base (VMware
                                    rtc.diffFromUTC), 0 if none */
    uint64_t memory_min;         /* bytes: the least RAM the VM may
                                    shrink to (Hyper-V dynamic memory
                                    minimum), 0 if unknown */
    uint64_t memory_max;         /* bytes: the most it may grow to (Hyper-V
                                    maximum, VMware sched.mem.max), 0 if
                                    unknown */
    uint64_t memory_reservation; /* bytes of host RAM guaranteed (VMware
                                    sched.mem.minsize), 0 if unknown */
    enum vmc_graphics graphics;
    size_t nr_controllers;
    struct vmc_controller **controllers;
    size_t nr_serials;
    struct vmc_serial **serials;

    /* Model version 3. */
    bool nested_virt;            /* hardware virtualisation is exposed to
                                    the guest (VMware vhv.enable, Hyper-V
                                    ExposeVirtualizationExtensions) */
};

/* A new empty VM (all zero) tied to H for error reporting.  Returns
 * NULL with an error set on H.  Free with vmc_vm_free.
 */
struct vmc_vm *vmc_vm_new(struct vmc_handle *h);

/* Free VM and everything it owns, and remove its temporary files
 * (vmc_vm_add_tmpfile).  Accepts NULL.
 */
void vmc_vm_free(struct vmc_vm *vm);

/* A deep copy of VM (every string, list and element), tied to the same
 * handle.  VM is not changed.  The copy does not own VM's temporary
 * files: only VM removes them, so keep VM alive while the copy's paths
 * are in use.  The digests of vmc_vm_add_digest are copied.  Returns
 * the copy (free with vmc_vm_free) or NULL with an error set on vm->h.
 */
struct vmc_vm *vmc_vm_copy(const struct vmc_vm *vm);

/* Give VM a temporary file or directory that a reader created (a disk
 * extracted from an OVA, a work directory): vmc_vm_free removes it, a
 * file with unlink, a directory with everything under it (symbolic
 * links are removed, never followed).  Register only what the reader
 * created itself.  Not part of the JSON form, not copied by
 * vmc_vm_copy.  Returns 0 or -1 with an error set on vm->h.
 */
int vmc_vm_add_tmpfile(struct vmc_vm *vm, const char *path);

/* Give VM a digest the core checks later instead of the reader now (a
 * reader asked to with VMC_READ_DEFER_DIGESTS, <vmconv/plugin.h>): the
 * bytes of PATH must have the ALGORITHM ("SHA1" or "SHA256", any case)
 * digest HEX (hexadecimal, any case).  PATH is a source name as
 * vmc_image_open_name takes it: a file, "range:OFFSET:LENGTH:FILE" or
 * "concat:..."; its raw bytes are hashed, not an image's contents.
 * WHAT names the file in messages, as the reader's own messages
 * do: the package and the member, such as "/vms/web.ova: disk1.vmdk".  The conversion pipeline reads every
 * such file while it copies the disks and fails, before anything
 * appears in the output directory, if one differs.  Not part of the
 * JSON form; copied by vmc_vm_copy.  Returns 0 or -1 with an error set
 * on vm->h (a bad algorithm or digest, out of memory, more than
 * VMC_VM_MAX_DIGESTS).
 */
int vmc_vm_add_digest(struct vmc_vm *vm, const char *path,
                      const char *algorithm, const char *hex,
                      const char *what);

/* Bring the controller list and the disks' own fields into agreement,
 * for readers that set only one of them (every model-version-1 reader
 * sets only the disks' BUS, CONTROLLER and CONTROLLER_MODEL).  A disk
 * with a known bus and controller number and no CONTROLLER_REF is
 * linked to the listed controller of that bus and number, which is
 * added (with the disk's model) when missing; a controller of unknown
 * model takes the model of its disks.  A disk with a CONTROLLER_REF
 * takes the controller's bus, number and model where its own are
 * unknown.  Conflicts (two models for one controller) are left for
 * vmc_vm_check to report.  Returns 0, or -1 with an error on vm->h
 * (out of memory, too many controllers).
 */
int vmc_vm_sync_controllers(struct vmc_vm *vm);

/* Check that VM is consistent, as the core does after a plugin read
 * and before a write.  The rules:
 *
 *  - every enum field inside its table; UUIDs and MAC addresses in
 *    canonical form;
 *  - disks: a known address is unique per bus (no two disks in one
 *    slot) and in range for the bus: IDE controller 0-1 and unit 0-1;
 *    floppy controller 0, unit 0-1; SATA unit 0-31; NVMe unit 0-255;
 *    USB unit 0-127; SCSI unit 0-15 but not 7 (the HBA) for BusLogic,
 *    LSI Logic and LSI SAS, 0-63 but not 7 for PVSCSI, 0-63 for
 *    Hyper-V SCSI, 0-16383 for other or unknown models; other buses
 *    unit 0-16383; controller numbers up to 255.  A disk whose bus is
 *    unknown is not range-checked.  -1 is the only negative value;
 *  - a CONTROLLER_REF names a listed controller whose bus, number and
 *    model agree with the disk's own (where known); no two listed
 *    controllers share a bus and number;
 *  - no two disks share a boot order, no two NICs a MAC address, no
 *    two serial ports an index;
 *  - a disk marked MISSING has no PATH; sector sizes are powers of two
 *    from 512 to 65536, physical >= logical; a VLAN is at most 4095;
 *  - snapshot ids are set and unique, parents exist without loops, the
 *    current snapshot exists, snapshot disks name a disk or -1;
 *  - sockets * cores * threads = vcpus when all four are known;
 *    memory_min <= memory <= memory_max where known.
 *
 * Returns 0, or -1 with one error (the first problem) set on vm->h,
 * naming the source path ("vm" without one), the element and the
 * problem: "web01.vmx: disks[1]: scsi0:3 is already used by disks[0]".
 */
int vmc_vm_check(const struct vmc_vm *vm);

/* Append a zeroed element to the VM's list and return it (owned by the
 * VM); a disk's CONTROLLER, UNIT and CONTROLLER_REF start at -1
 * (unknown).  Return NULL with an error set on vm->h when out of
 * memory or past the VMC_VM_MAX_* limit.
 */
struct vmc_disk *vmc_vm_add_disk(struct vmc_vm *vm);
struct vmc_nic *vmc_vm_add_nic(struct vmc_vm *vm);
struct vmc_snapshot *vmc_vm_add_snapshot(struct vmc_vm *vm);
struct vmc_controller *vmc_vm_add_controller(struct vmc_vm *vm);
struct vmc_serial *vmc_vm_add_serial(struct vmc_vm *vm);
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

/* ---- JSON (schema "vmconv-vm/3", see vmconv-vm-json(5)) ------------ */

/* The schema written; vmc_vm_from_json also reads "vmconv-vm/1" and
 * "vmconv-vm/2".
 */
#define VMC_VM_JSON_SCHEMA "vmconv-vm/3"
/* The largest JSON text vmc_vm_from_json accepts. */
#define VMC_VM_JSON_MAX (16u * 1024 * 1024)

/* The VM as pretty-printed JSON text ending with a newline.  The same
 * VM always gives the same text.  Returns a malloc'd string (the
 * caller frees it) or NULL with an error set on vm->h (out of memory,
 * or an enum field holding a value outside its table: a reader bug).
 */
char *vmc_vm_to_json(const struct vmc_vm *vm);

/* Parse TEXT (a vmconv-vm/1, /2 or /3 document) into a new VM.  SOURCE_NAME
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
