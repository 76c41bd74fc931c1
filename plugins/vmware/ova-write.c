/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: write a VM as an OVA (target parameter
 * format=ova): a tar holding the OVF 1.0 envelope first, then the
 * manifest (SHA256 of every other file), then the disks as
 * streamOptimized VMDKs, as ../shared/specs/ovf.md section 5 says
 * VMware's tools write them.  The envelope is written with
 * xmlTextWriter; the tar with libarchive (ustar, pax headers only for
 * members larger than 8 GiB), owner 0/0, mode 0644.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/xmlwriter.h>

#include "cleanup.h"
#include "xml-writer.h"
#include "ovf.h"

#define NS_OVF  "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_RASD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define NS_VSSD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
#define NS_VMW  "http://www.vmware.com/schema/ovf"
#define VMDK_STREAM_URI \
    "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define OVA_NAME_MAX 100         /* ustar member names, no prefix games */
#define OVA_IO_SIZE (1024u * 1024)

/* One file of the OVA after the .ovf and the .mf. */
struct ow_file {
    char *name;                  /* member name */
    const char *src;             /* the converted VMDK */
    uint64_t size;
    uint64_t capacity;           /* guest-visible bytes */
    char sha256[VMC_DIGEST_HEX_MAX];
    size_t disk;                 /* vm->disks index */
};

struct ow {
    struct vmc_handle *h;
    const struct vmc_write_options *opts;
    struct vmc_vm *vm;           /* a copy, controllers in sync */
    size_t nr_files;
    struct ow_file *files;
    int *file_of_disk;           /* [disk] = index in files, or -1 */
    unsigned *ctrl_iid;          /* [controller] = its InstanceID */
    char hwver[16];
};

/* ---- Choices ------------------------------------------------------- */

/* A vSphere guest id for the model's OS hint. */
static const char *
ow_guest_id(const struct vmc_vm *vm, char *buf, size_t len)
{
    bool b64 = vm->os_arch == NULL || strcmp(vm->os_arch, "x86_64") == 0 ||
               strcmp(vm->os_arch, "aarch64") == 0;
    const char *d = vm->os_distro ? vm->os_distro : "";
    const char *v = vm->os_version ? vm->os_version : "";
    size_t n = vm->os_id ? strlen(vm->os_id) : 0;
    unsigned major = (unsigned) atoi(v);

    /* Already a vSphere guest id ("rhel9_64Guest"). */
    if (n > 5 && strcmp(vm->os_id + n - 5, "Guest") == 0 &&
        strspn(vm->os_id, "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n) {
        snprintf(buf, len, "%s", vm->os_id);
        return buf;
    }
    switch (vm->os_family) {
    case VMC_OS_FAMILY_WINDOWS:
        if (strcmp(v, "xp") == 0)
            return b64 ? "winXPPro64Guest" : "winXPProGuest";
        if (strcmp(v, "2003") == 0)
            return b64 ? "winNetStandard64Guest" : "winNetStandardGuest";
        if (strcmp(v, "7") == 0)
            return b64 ? "windows7_64Guest" : "windows7Guest";
        if (strcmp(v, "2008r2") == 0)
            return "windows7Server64Guest";
        if (strcmp(v, "8") == 0)
            return b64 ? "windows8_64Guest" : "windows8Guest";
        if (strcmp(v, "2012") == 0)
            return "windows8Server64Guest";
        if (strcmp(v, "2016") == 0)
            return "windows9Server64Guest";
        if (strcmp(v, "2019") == 0)
            return "windows2019srv_64Guest";
        if (strcmp(v, "2022") == 0)
            return "windows2019srvNext_64Guest";
        if (strcmp(v, "11") == 0)
            return "windows11_64Guest";
        return b64 ? "windows9_64Guest" : "windows9Guest";
    case VMC_OS_FAMILY_LINUX:
        if (strcmp(d, "rhel") == 0 && major >= 2 && major <= 9) {
            snprintf(buf, len, b64 ? "rhel%u_64Guest" : "rhel%uGuest",
                     major);
            return buf;
        }
        if (strcmp(d, "centos") == 0)
            return b64 ? "centos64Guest" : "centosGuest";
        if (strcmp(d, "ubuntu") == 0)
            return b64 ? "ubuntu64Guest" : "ubuntuGuest";
        if (strcmp(d, "debian") == 0 && major >= 4 && major <= 12) {
            snprintf(buf, len, b64 ? "debian%u_64Guest" : "debian%uGuest",
                     major);
            return buf;
        }
        if (strcmp(d, "sles") == 0 && major >= 10 && major <= 16) {
            snprintf(buf, len, b64 ? "sles%u_64Guest" : "sles%uGuest",
                     major);
            return buf;
        }
        if (strcmp(d, "photon") == 0)
            return "vmwarePhoton64Guest";
        return b64 ? "other4xLinux64Guest" : "other4xLinuxGuest";
    default:
        return b64 ? "otherGuest64" : "otherGuest";
    }
}

static const char *
ow_scsi_subtype(enum vmc_controller_model m)
{
    switch (m) {
    case VMC_CONTROLLER_MODEL_BUSLOGIC: return "buslogic";
    case VMC_CONTROLLER_MODEL_LSISAS1068: return "lsilogicsas";
    case VMC_CONTROLLER_MODEL_PVSCSI: return "VirtualSCSI";
    default: return "lsilogic";
    }
}

static const char *
ow_nic_subtype(enum vmc_nic_model m)
{
    switch (m) {
    case VMC_NIC_MODEL_E1000: return "E1000";
    case VMC_NIC_MODEL_VMXNET3: return "VmxNet3";
    case VMC_NIC_MODEL_VMXNET2: return "VmxNet2";
    case VMC_NIC_MODEL_VMXNET: return "VmxNet";
    case VMC_NIC_MODEL_PCNET: return "PCNet32";
    default: return "E1000e";
    }
}

/* The hardware version: the source's when VMware's and new enough,
 * else the lowest that holds what is used.
 */
static void
ow_hw_version(struct ow *w)
{
    unsigned need = 10, src = 0;
    size_t i;

    for (i = 0; i < w->vm->nr_disks; i++)
        if (w->vm->disks[i]->bus == VMC_DISK_BUS_NVME)
            need = 13;
    if (w->vm->firmware == VMC_FIRMWARE_UEFI && w->vm->secure_boot &&
        need < 13)
        need = 13;
    if (w->vm->source_version &&
        sscanf(w->vm->source_version, "vmx-%u", &src) == 1 && src > need &&
        src < 100)
        need = src;
    snprintf(w->hwver, sizeof w->hwver, "vmx-%02u", need);
}

/* ---- The envelope ------------------------------------------------- */

/* <Item> opening: the rasd fields must come in alphabetical order, so
 * each Item is written by hand in that order.
 */
#define rasd(name, text) xmlw_single_element("rasd:" name, (text))
#define rasdf(name, fmt, ...) \
    xmlw_single_element_format("rasd:" name, fmt, __VA_ARGS__)

static int
ow_item_cpu(struct ow *w, xmlTextWriterPtr xo, unsigned iid)
{
    struct vmc_handle *h = w->h;
    unsigned vcpus = w->vm->vcpus ? w->vm->vcpus : 1;

    xmlw_start_element("Item") {
        rasd("AllocationUnits", "hertz * 10^6");
        rasd("Description", "Number of Virtual CPUs");
        rasdf("ElementName", "%u virtual CPU(s)", vcpus);
        rasdf("InstanceID", "%u", iid);
        rasd("ResourceType", "3");
        rasdf("VirtualQuantity", "%u", vcpus);
        if (w->vm->cpu_cores > 0 && vcpus % w->vm->cpu_cores == 0) {
            xmlw_start_element("vmw:CoresPerSocket") {
                xmlw_attribute("ovf:required", "false");
                xmlw_string_format("%u", w->vm->cpu_cores);
            }
        }
    }
    return 0;
}

static int
ow_item_memory(struct ow *w, xmlTextWriterPtr xo, unsigned iid)
{
    struct vmc_handle *h = w->h;
    uint64_t mem = w->vm->memory;
    bool mib = mem % (UINT64_C(1) << 20) == 0;

    if (mem == 0) {
        vmc_error(h, "%s: the VM has no memory size", w->opts->outdir);
        return -1;
    }
    xmlw_start_element("Item") {
        rasd("AllocationUnits", mib ? "byte * 2^20" : "byte");
        rasd("Description", "Memory Size");
        rasdf("ElementName", "%" PRIu64 "MB of memory", mem >> 20);
        rasdf("InstanceID", "%u", iid);
        rasd("ResourceType", "4");
        rasdf("VirtualQuantity", "%" PRIu64, mib ? mem >> 20 : mem);
    }
    return 0;
}

static int
ow_item_controller(struct ow *w, xmlTextWriterPtr xo, size_t i,
                   unsigned iid)
{
    struct vmc_handle *h = w->h;
    const struct vmc_controller *c = w->vm->controllers[i];
    const char *desc, *sub = NULL, *rt;

    switch (c->bus) {
    case VMC_DISK_BUS_IDE:
        desc = "IDE Controller"; rt = "5";
        break;
    case VMC_DISK_BUS_SCSI:
        desc = "SCSI Controller"; rt = "6"; sub = ow_scsi_subtype(c->model);
        break;
    case VMC_DISK_BUS_SATA:
        desc = "SATA Controller"; rt = "20"; sub = "vmware.sata.ahci";
        break;
    case VMC_DISK_BUS_NVME:
        desc = "NVME Controller"; rt = "20"; sub = "vmware.nvme.controller";
        break;
    default:
        return 0;               /* floppy: no Item */
    }
    xmlw_start_element("Item") {
        rasdf("Address", "%u", c->index);
        rasd("Description", desc);
        rasdf("ElementName", "%s %u", desc, c->index);
        rasdf("InstanceID", "%u", iid);
        if (sub)
            rasd("ResourceSubType", sub);
        rasd("ResourceType", rt);
    }
    return 0;
}

static int
ow_config(struct ow *w, xmlTextWriterPtr xo, const char *elem,
          const char *key, const char *value)
{
    struct vmc_handle *h = w->h;

    xmlw_start_element(elem) {
        xmlw_attribute("ovf:required", "false");
        xmlw_attribute("vmw:key", key);
        xmlw_attribute("vmw:value", value);
    }
    return 0;
}

static int
ow_item_disk(struct ow *w, xmlTextWriterPtr xo, size_t i, unsigned iid)
{
    struct vmc_handle *h = w->h;
    const struct vmc_disk *d = w->vm->disks[i];
    int parent = d->controller_ref >= 0
                 ? (int) w->ctrl_iid[d->controller_ref] : -1;
    const char *rt, *name;
    bool floppy = d->device == VMC_DISK_DEVICE_FLOPPY;

    if (floppy) {
        rt = "14"; name = "Floppy Drive";
    }
    else if (d->device == VMC_DISK_DEVICE_CDROM) {
        rt = "15"; name = "CD/DVD Drive";
    }
    else {
        rt = "17"; name = "Hard Disk";
    }
    xmlw_start_element("Item") {
        if (d->unit >= 0)
            rasdf("AddressOnParent", "%d", d->unit);
        if (floppy || d->device == VMC_DISK_DEVICE_CDROM)
            rasd("AutomaticAllocation",
                 d->connection == VMC_CONNECTION_CONNECTED ? "true"
                                                           : "false");
        rasdf("ElementName", "%s %zu", name, i + 1);
        if (w->file_of_disk[i] >= 0)
            rasdf("HostResource", "ovf:/disk/vmdisk%d",
                  w->file_of_disk[i] + 1);
        rasdf("InstanceID", "%u", iid);
        if (parent >= 0 && !floppy)
            rasdf("Parent", "%d", parent);
        rasd("ResourceType", rt);
        if (d->independent &&
            ow_config(w, xo, "vmw:Config", "backing.diskMode",
                      d->nonpersistent ? "independent_nonpersistent"
                                       : "independent_persistent") == -1)
            return -1;
    }
    return 0;
}

static int
ow_item_nic(struct ow *w, xmlTextWriterPtr xo, size_t i, unsigned iid)
{
    struct vmc_handle *h = w->h;
    const struct vmc_nic *n = w->vm->nics[i];

    xmlw_start_element("Item") {
        if (n->mac)
            rasd("Address", n->mac);
        rasdf("AddressOnParent", "%zu", i + 7);
        rasd("AutomaticAllocation",
             n->connection == VMC_CONNECTION_DISCONNECTED ? "false"
                                                          : "true");
        if (n->network)
            rasd("Connection", n->network);
        rasdf("ElementName", "Network adapter %zu", i + 1);
        rasdf("InstanceID", "%u", iid);
        rasd("ResourceSubType", ow_nic_subtype(n->model));
        rasd("ResourceType", "10");
    }
    return 0;
}

static int
ow_hardware(struct ow *w, xmlTextWriterPtr xo)
{
    struct vmc_handle *h = w->h;
    const struct vmc_vm *vm = w->vm;
    unsigned iid = 1;
    size_t i;

    xmlw_start_element("VirtualHardwareSection") {
        xmlw_single_element("Info", "Virtual hardware requirements");
        xmlw_start_element("System") {
            xmlw_single_element("vssd:ElementName",
                                "Virtual Hardware Family");
            xmlw_single_element("vssd:InstanceID", "0");
            xmlw_single_element("vssd:VirtualSystemIdentifier",
                                w->opts->name);
            xmlw_single_element("vssd:VirtualSystemType", w->hwver);
        }
        if (ow_item_cpu(w, xo, iid++) == -1 ||
            ow_item_memory(w, xo, iid++) == -1)
            return -1;
        for (i = 0; i < vm->nr_controllers; i++) {
            w->ctrl_iid[i] = iid;
            if (ow_item_controller(w, xo, i, iid++) == -1)
                return -1;
        }
        for (i = 0; i < vm->nr_disks; i++)
            if (ow_item_disk(w, xo, i, iid++) == -1)
                return -1;
        for (i = 0; i < vm->nr_nics; i++)
            if (ow_item_nic(w, xo, i, iid++) == -1)
                return -1;
        for (i = 0; i < vm->nr_serials; i++) {
            xmlw_start_element("Item") {
                rasdf("ElementName", "Serial port %u",
                      vm->serials[i]->index + 1);
                rasdf("InstanceID", "%u", iid++);
                rasd("ResourceType", "21");
            }
        }
        if (vm->video == VMC_VIDEO_MODEL_VMVGA || vm->vram) {
            xmlw_start_element("Item") {
                rasd("ElementName", "Video card");
                rasdf("InstanceID", "%u", iid++);
                rasd("ResourceType", "24");
                if (vm->vram) {
                    char kb[32];

                    snprintf(kb, sizeof kb, "%" PRIu64, vm->vram / 1024);
                    if (ow_config(w, xo, "vmw:Config", "videoRamSizeInKB",
                                  kb) == -1)
                        return -1;
                }
            }
        }
        if (vm->firmware != VMC_FIRMWARE_UNKNOWN &&
            ow_config(w, xo, "vmw:Config", "firmware",
                      vm->firmware == VMC_FIRMWARE_UEFI ? "efi"
                                                        : "bios") == -1)
            return -1;
        if (vm->firmware == VMC_FIRMWARE_UEFI &&
            ow_config(w, xo, "vmw:Config", "bootOptions.efiSecureBootEnabled",
                      vm->secure_boot ? "true" : "false") == -1)
            return -1;
        if (vm->nested_virt &&
            ow_config(w, xo, "vmw:Config", "nestedHVEnabled", "true") == -1)
            return -1;
        if (vm->uuid && strlen(vm->uuid) == VMC_UUID_LEN) {
            /* As VMware writes it: "56 4d 12 34 ... 78-9a bc ...". */
            char u[48], *o = u;
            const char *p;
            int k = 0;

            for (p = vm->uuid; *p; p++) {
                if (*p == '-')
                    continue;
                *o++ = *p;
                if (++k % 2 == 0 && k < 32)
                    *o++ = k == 16 ? '-' : ' ';
            }
            *o = '\0';
            if (ow_config(w, xo, "vmw:ExtraConfig", "uuid.bios", u) == -1)
                return -1;
        }
    }
    return 0;
}

static int
ow_envelope(struct ow *w, xmlTextWriterPtr xo)
{
    struct vmc_handle *h = w->h;
    const struct vmc_vm *vm = w->vm;
    char gid[64];
    const char *guest = ow_guest_id(vm, gid, sizeof gid);
    size_t i, j;

    if (xmlTextWriterSetIndent(xo, 1) == -1 ||
        xmlTextWriterSetIndentString(xo, BAD_CAST "  ") == -1 ||
        xmlTextWriterStartDocument(xo, NULL, "UTF-8", NULL) == -1) {
        vmc_error(h, "writing XML: cannot start the document");
        return -1;
    }
    xmlw_start_element("Envelope") {
        xmlw_attribute("xmlns", NS_OVF);
        xmlw_attribute("xmlns:ovf", NS_OVF);
        xmlw_attribute("xmlns:rasd", NS_RASD);
        xmlw_attribute("xmlns:vmw", NS_VMW);
        xmlw_attribute("xmlns:vssd", NS_VSSD);
        xmlw_attribute("xmlns:xsi",
                       "http://www.w3.org/2001/XMLSchema-instance");
        xmlw_start_element("References") {
            for (i = 0; i < w->nr_files; i++) {
                xmlw_start_element("File") {
                    xmlw_attribute("ovf:href", w->files[i].name);
                    xmlw_attribute_format("ovf:id", "file%zu", i + 1);
                    xmlw_attribute_format("ovf:size", "%" PRIu64,
                                          w->files[i].size);
                }
            }
        }
        xmlw_start_element("DiskSection") {
            xmlw_single_element("Info", "Virtual disk information");
            for (i = 0; i < w->nr_files; i++) {
                xmlw_start_element("Disk") {
                    xmlw_attribute_format("ovf:capacity", "%" PRIu64,
                                          w->files[i].capacity);
                    xmlw_attribute("ovf:capacityAllocationUnits", "byte");
                    xmlw_attribute_format("ovf:diskId", "vmdisk%zu", i + 1);
                    xmlw_attribute_format("ovf:fileRef", "file%zu", i + 1);
                    xmlw_attribute("ovf:format", VMDK_STREAM_URI);
                }
            }
        }
        xmlw_start_element("NetworkSection") {
            xmlw_single_element("Info", "The list of logical networks");
            for (i = 0; i < vm->nr_nics; i++) {
                const char *net = vm->nics[i]->network;
                bool seen = false;

                if (net == NULL)
                    continue;
                for (j = 0; j < i; j++)
                    if (vm->nics[j]->network &&
                        strcmp(vm->nics[j]->network, net) == 0)
                        seen = true;
                if (seen)
                    continue;
                xmlw_start_element("Network") {
                    xmlw_attribute("ovf:name", net);
                    xmlw_single_element_format("Description",
                                               "The %s network", net);
                }
            }
        }
        xmlw_start_element("VirtualSystem") {
            xmlw_attribute("ovf:id", w->opts->name);
            xmlw_single_element("Info", "A virtual machine");
            xmlw_single_element("Name", vm->name ? vm->name : w->opts->name);
            if (vm->description) {
                xmlw_start_element("AnnotationSection") {
                    xmlw_single_element("Info", "A human-readable annotation");
                    xmlw_single_element("Annotation", vm->description);
                }
            }
            xmlw_start_element("OperatingSystemSection") {
                xmlw_attribute("ovf:id",
                               vm->os_family == VMC_OS_FAMILY_LINUX ? "36"
                                                                    : "1");
                xmlw_attribute("vmw:osType", guest);
                xmlw_single_element("Info", "The kind of installed guest "
                                    "operating system");
            }
            if (ow_hardware(w, xo) == -1)
                return -1;
        }
    }
    if (xmlTextWriterEndDocument(xo) == -1) {
        vmc_error(h, "writing XML: cannot end the document");
        return -1;
    }
    return 0;
}

/* ---- The files ---------------------------------------------------- */

/* Refuse a converted disk that is not a streamOptimized VMDK. */
static int
ow_check_stream(struct ow *w, const char *path, size_t disk,
                uint64_t *capacity)
{
    unsigned char hdr[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, hdr, sizeof hdr, 0) : -1;
    uint32_t flags;

    if (fd >= 0)
        close(fd);
    if (n == -1) {
        vmc_error(w->h, "open: %s: %m", path);
        return -1;
    }
    flags = (uint32_t) hdr[8] | (uint32_t) hdr[9] << 8 |
            (uint32_t) hdr[10] << 16 | (uint32_t) hdr[11] << 24;
    if (n != (ssize_t) sizeof hdr || memcmp(hdr, "KDMV", 4) != 0 ||
        (flags & 0x30000u) != 0x30000u) {
        vmc_error(w->h, "%s: disk %zu is not a streamOptimized VMDK, which "
                  "an OVA needs (convert it with subformat=streamOptimized)",
                  path, disk);
        return -1;
    }
    *capacity = 0;
    for (int k = 7; k >= 0; k--)
        *capacity = *capacity << 8 | hdr[12 + k];
    if (*capacity > (UINT64_MAX >> 9)) {
        vmc_error(w->h, "%s: disk %zu: capacity out of range", path, disk);
        return -1;
    }
    *capacity <<= 9;
    return 0;
}

static int
ow_list_files(struct ow *w)
{
    const struct vmc_vm *vm = w->vm;
    size_t i;

    w->files = calloc(vm->nr_disks ? vm->nr_disks : 1, sizeof *w->files);
    w->file_of_disk = calloc(vm->nr_disks ? vm->nr_disks : 1, sizeof (int));
    w->ctrl_iid = calloc(vm->nr_controllers ? vm->nr_controllers : 1,
                         sizeof (unsigned));
    if (w->files == NULL || w->file_of_disk == NULL || w->ctrl_iid == NULL) {
        vmc_error(w->h, "out of memory");
        return -1;
    }
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];
        const char *src = w->opts->nr_disks ? w->opts->disk_tmp_paths[i]
                                            : NULL;
        struct ow_file *f;
        struct stat st;

        w->file_of_disk[i] = -1;
        if (d->device == VMC_DISK_DEVICE_CDROM ||
            d->device == VMC_DISK_DEVICE_FLOPPY)
            continue;           /* written as empty drives */
        if (d->device != VMC_DISK_DEVICE_DISK || d->reference_only) {
            vmc_error(w->h, "%s: disk %zu is a %s the VM refers to as it "
                      "is: an OVA cannot carry it", w->opts->outdir, i,
                      d->device == VMC_DISK_DEVICE_LUN ? "host device (LUN)"
                                                       : "disk image");
            return -1;
        }
        if (src == NULL) {
            vmc_error(w->h, "%s: disk %zu has no converted image to put in "
                      "the OVA", w->opts->outdir, i);
            return -1;
        }
        if (stat(src, &st) == -1) {
            vmc_error(w->h, "stat: %s: %m", src);
            return -1;
        }
        f = &w->files[w->nr_files];
        if (ow_check_stream(w, src, i, &f->capacity) == -1)
            return -1;
        if (asprintf(&f->name, "%s-disk%zu.vmdk", w->opts->name,
                     w->nr_files + 1) == -1) {
            vmc_error(w->h, "out of memory");
            return -1;
        }
        if (strlen(f->name) > OVA_NAME_MAX) {
            vmc_error(w->h, "%s: the name '%s' is too long for an OVA member "
                      "(%d bytes at most)", w->opts->outdir, f->name,
                      OVA_NAME_MAX);
            return -1;
        }
        f->src = src;
        f->size = (uint64_t) st.st_size;
        f->disk = i;
        w->file_of_disk[i] = (int) w->nr_files++;
        if (vmc_digest_file(w->h, VMC_DIGEST_SHA256, src, f->sha256) == -1)
            return -1;
    }
    return 0;
}

static int
ow_tar_header(struct ow *w, struct archive *a, const char *name,
              uint64_t size, time_t mtime)
{
    struct archive_entry *e = archive_entry_new();
    int r;

    if (e == NULL) {
        vmc_error(w->h, "out of memory");
        return -1;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t) size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, mtime, 0);
    r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) {
        vmc_error(w->h, "writing the OVA: %s: %s", name,
                  archive_error_string(a));
        return -1;
    }
    return 0;
}

static int
ow_tar_data(struct ow *w, struct archive *a, const char *name,
            const void *buf, size_t len)
{
    if (len && archive_write_data(a, buf, len) != (la_ssize_t) len) {
        vmc_error(w->h, "writing the OVA: %s: %s", name,
                  archive_error_string(a));
        return -1;
    }
    return 0;
}

static int
ow_tar_file(struct ow *w, struct archive *a, const struct ow_file *f,
            time_t mtime, char *buf)
{
    uint64_t done = 0;
    int fd;

    if (ow_tar_header(w, a, f->name, f->size, mtime) == -1)
        return -1;
    fd = open(f->src, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        vmc_error(w->h, "open: %s: %m", f->src);
        return -1;
    }
    while (done < f->size) {
        size_t want = f->size - done < OVA_IO_SIZE ? (size_t) (f->size - done)
                                                   : OVA_IO_SIZE;
        ssize_t n = read(fd, buf, want);

        if (n <= 0) {
            if (n == -1 && errno == EINTR)
                continue;
            if (n == 0)
                vmc_error(w->h, "%s: the file shrank while it was copied",
                          f->src);
            else
                vmc_error(w->h, "read: %s: %m", f->src);
            close(fd);
            return -1;
        }
        if (ow_tar_data(w, a, f->name, buf, (size_t) n) == -1 ||
            vmc_cancelled(w->h)) {
            if (vmc_cancelled(w->h))
                vmc_error(w->h, "cancelled");
            close(fd);
            return -1;
        }
        done += (uint64_t) n;
    }
    close(fd);
    return 0;
}

static int
ow_write_tar(struct ow *w, const char *ova, const char *ovf_name,
             const char *ovf, size_t ovf_len, const char *mf_name,
             const char *mf)
{
    struct archive *a = archive_write_new();
    CLEANUP_FREE char *buf = malloc(OVA_IO_SIZE);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t mtime = sde ? (time_t) strtoll(sde, NULL, 10) : time(NULL);
    size_t i;
    int r = -1;

    if (a == NULL || buf == NULL) {
        vmc_error(w->h, "out of memory");
        archive_write_free(a);
        return -1;
    }
    /* ustar headers; pax ones only where ustar cannot say it. */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_filename(a, ova) != ARCHIVE_OK) {
        vmc_error(w->h, "%s: %s", ova, archive_error_string(a));
        goto out;
    }
    if (ow_tar_header(w, a, ovf_name, ovf_len, mtime) == -1 ||
        ow_tar_data(w, a, ovf_name, ovf, ovf_len) == -1 ||
        ow_tar_header(w, a, mf_name, strlen(mf), mtime) == -1 ||
        ow_tar_data(w, a, mf_name, mf, strlen(mf)) == -1)
        goto out;
    for (i = 0; i < w->nr_files; i++)
        if (ow_tar_file(w, a, &w->files[i], mtime, buf) == -1)
            goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        vmc_error(w->h, "%s: %s", ova, archive_error_string(a));
        goto out;
    }
    r = 0;
out:
    archive_write_free(a);
    return r;
}

/* True if PATH is a file directly inside DIR. */
static bool
ow_inside(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && path[n] == '/' &&
           strchr(path + n + 1, '/') == NULL;
}

static void
ow_free(struct ow *w)
{
    size_t i;

    for (i = 0; i < w->nr_files; i++)
        free(w->files[i].name);
    free(w->files);
    free(w->file_of_disk);
    free(w->ctrl_iid);
    vmc_vm_free(w->vm);
}

int
ova_write(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    struct ow w = { .h = h, .opts = opts };
    CLEANUP_XMLBUFFERFREE xmlBufferPtr xb = NULL;
    CLEANUP_FREE char *ova = NULL, *ovf_name = NULL, *mf_name = NULL;
    CLEANUP_FREE char *mf = NULL;
    xmlTextWriterPtr xo;
    char hex[VMC_DIGEST_HEX_MAX];
    struct vmc_digest_ctx *dg;
    size_t i, mflen = 0;
    FILE *fp;
    int r = -1;

    if (strchr(opts->name, '/') || strlen(opts->name) + 16 > OVA_NAME_MAX) {
        vmc_error(h, "%s: '%s' cannot name the files of an OVA",
                  opts->outdir, opts->name);
        return -1;
    }
    w.vm = vmc_vm_copy(vm);
    if (w.vm == NULL || vmc_vm_sync_controllers(w.vm) == -1)
        goto out;
    ow_hw_version(&w);
    if (ow_list_files(&w) == -1)
        goto out;

    xb = xmlBufferCreate();
    xo = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
    if (xo == NULL) {
        vmc_error(h, "out of memory");
        goto out;
    }
    if (ow_envelope(&w, xo) == -1) {
        xmlFreeTextWriter(xo);
        goto out;
    }
    xmlFreeTextWriter(xo);

    if (asprintf(&ova, "%s/%s.ova", opts->outdir, opts->name) == -1 ||
        asprintf(&ovf_name, "%s.ovf", opts->name) == -1 ||
        asprintf(&mf_name, "%s.mf", opts->name) == -1) {
        vmc_error(h, "out of memory");
        goto out;
    }
    /* The manifest: the .ovf, then every disk. */
    fp = open_memstream(&mf, &mflen);
    dg = vmc_digest_new(h, VMC_DIGEST_SHA256);
    if (fp == NULL || dg == NULL) {
        if (fp)
            fclose(fp);
        vmc_digest_free(dg);
        if (fp == NULL)
            vmc_error(h, "out of memory");
        goto out;
    }
    vmc_digest_update(dg, xmlBufferContent(xb), (size_t) xmlBufferLength(xb));
    vmc_digest_final(dg, hex);
    fprintf(fp, "SHA256(%s)= %s\n", ovf_name, hex);
    for (i = 0; i < w.nr_files; i++)
        fprintf(fp, "SHA256(%s)= %s\n", w.files[i].name, w.files[i].sha256);
    if (fclose(fp) != 0) {
        vmc_error(h, "out of memory");
        goto out;
    }
    r = ow_write_tar(&w, ova, ovf_name, (const char *) xmlBufferContent(xb),
                     (size_t) xmlBufferLength(xb), mf_name, mf);
    if (r == -1) {
        unlink(ova);
        goto out;
    }
    /* The converted VMDKs the core wrote into OUTDIR now live in the
     * OVA (the core verified them before calling write): the package
     * is the output, not the loose files.  Files outside OUTDIR are
     * not ours to remove.
     */
    for (i = 0; i < w.nr_files; i++)
        if (ow_inside(opts->outdir, w.files[i].src))
            unlink(w.files[i].src);
out:
    ow_free(&w);
    return r;
}
