/* vmconv vmware plugin: VMware VMs (.vmx, OVF, OVA).
 *
 * What works: probe recognises a .vmx (its keys), an OVF envelope and
 * an OVA (a tar whose first member is the .ovf), by content; a .vmx is
 * read by vmx.c (with the parser of vmx-parse.c) and written by
 * vmx-write.c, and the plugin declares what a VMware target can
 * express.  Reading OVF and OVA is not written yet and fails with a
 * plain error.  The formats are described in ../shared/specs/vmx.md
 * and ovf.md.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vmconv/plugin.h>

#include "vmx.h"

enum vmware_kind {
    VMWARE_NONE,
    VMWARE_VMX,
    VMWARE_OVF,
    VMWARE_OVA,
};

/* Keys every .vmx written by VMware products has (case-insensitive). */
static const char *const vmware_strong_keys[] = {
    "config.version", "virtualhw.version", NULL
};
static const char *const vmware_weak_keys[] = {
    ".encoding", "displayname", "guestos", "memsize", "numvcpus", NULL
};

static bool
vmware_key_in(const char *key, size_t len, const char *const *keys)
{
    size_t i;

    for (i = 0; keys[i]; i++)
        if (strlen(keys[i]) == len && strncasecmp(key, keys[i], len) == 0)
            return true;
    return false;
}

/* Score BUF as .vmx text: lines of 'key = "value"'.  Binary data is
 * never a .vmx.
 */
static int
vmware_probe_vmx(const char *buf, size_t len)
{
    unsigned strong = 0, weak = 0;
    size_t i = 0;

    if (memchr(buf, '\0', len))
        return 0;
    while (i < len) {
        size_t start, klen;

        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        start = i;
        while (i < len && (isalnum((unsigned char) buf[i]) ||
                           strchr("._:-", buf[i])))
            i++;
        klen = i - start;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        if (klen > 0 && i < len && buf[i] == '=') {
            if (vmware_key_in(buf + start, klen, vmware_strong_keys))
                strong++;
            else if (vmware_key_in(buf + start, klen, vmware_weak_keys))
                weak++;
        }
        while (i < len && buf[i] != '\n')
            i++;
        i++;
    }
    if (strong > 0)
        return 95;
    return weak >= 2 ? 60 : 0;
}

/* What the source IN is, and how sure we are (*SCORE).  The first
 * 64 KiB hold the keys VMware writes first, or a tar header.
 */
static enum vmware_kind
vmware_kind_of(const struct vmc_probe_input *in, int *score)
{
    const char *buf = (const char *) in->head;
    size_t n = in->head_len, name_len;

    *score = 0;
    if (!in->is_file || n == 0)
        return VMWARE_NONE;
    /* OVA: ustar magic at 257, first member "*.ovf". */
    if (n >= 512 && memcmp(buf + 257, "ustar", 5) == 0) {
        name_len = strnlen(buf, 100);
        if (name_len > 4 && strncmp(buf + name_len - 4, ".ovf", 4) == 0) {
            *score = 90;
            return VMWARE_OVA;
        }
        return VMWARE_NONE;
    }
    if (vmc_probe_xml_root(buf, n, "Envelope") &&
        memmem(buf, n, "schemas.dmtf.org/ovf/envelope/", 30)) {
        *score = 90;
        return VMWARE_OVF;
    }
    *score = vmware_probe_vmx(buf, n);
    return *score ? VMWARE_VMX : VMWARE_NONE;
}

static int
vmware_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    int score;

    vmware_kind_of(in, &score);
    return score;
}

static struct vmc_vm *
vmware_read(struct vmc_handle *h, const char *source,
            const struct vmc_read_options *opts)
{
    struct vmc_probe_input *in = vmc_probe_input_new(h, source);
    int score;

    if (in == NULL)
        return NULL;
    switch (vmware_kind_of(in, &score)) {
    case VMWARE_OVF:
        vmc_error(h, "%s: vmware plugin: reading OVF is not implemented yet",
                  source);
        break;
    case VMWARE_OVA:
        vmc_error(h, "%s: vmware plugin: reading OVA is not implemented yet",
                  source);
        break;
    case VMWARE_VMX:
        vmc_probe_input_free(in);
        return vmx_read(h, source, opts);
    case VMWARE_NONE: {
        size_t len = strlen(source);

        /* Named .vmx but not recognised (binary bytes, no known key):
         * the parser says which line is wrong.
         */
        if (len > 4 && strcasecmp(source + len - 4, ".vmx") == 0) {
            vmc_probe_input_free(in);
            return vmx_read(h, source, opts);
        }
        vmc_error(h, "%s: vmware plugin: not a .vmx, OVF or OVA file",
                  source);
        break;
    }
    }
    vmc_probe_input_free(in);
    return NULL;
}

static int
vmware_write(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts)
{
    return vmx_write(h, vm, opts);
}

/* What ESXi / Workstation offer a converted guest.  Defaults are the
 * devices every guest has drivers for (LSI Logic, e1000e); pvscsi and
 * vmxnet3 need VMware Tools drivers in the guest.
 */
static const char *const vmware_vmdk_subformats[] = {
    "monolithicSparse", "streamOptimized", "monolithicFlat", "vmfs", NULL
};

static const struct vmc_target_format vmware_formats[] = {
    { "vmdk", vmware_vmdk_subformats },
    { NULL, NULL },
};

static const struct vmc_target_caps vmware_caps = {
    ._struct_size = sizeof vmware_caps,
    .disk_buses = VMC_CAP(VMC_DISK_BUS_SCSI) | VMC_CAP(VMC_DISK_BUS_SATA) |
                  VMC_CAP(VMC_DISK_BUS_IDE) | VMC_CAP(VMC_DISK_BUS_NVME),
    .default_disk_bus = VMC_DISK_BUS_SCSI,
    .controller_models = VMC_CAP(VMC_CONTROLLER_MODEL_LSILOGIC) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_LSISAS1068) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_PVSCSI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_BUSLOGIC) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_AHCI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_PIIX4),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_LSILOGIC,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_VMXNET3) |
                  VMC_CAP(VMC_NIC_MODEL_E1000E) |
                  VMC_CAP(VMC_NIC_MODEL_E1000),
    .default_nic_model = VMC_NIC_MODEL_E1000E,
    .video_models = VMC_CAP(VMC_VIDEO_MODEL_VMVGA),
    .default_video_model = VMC_VIDEO_MODEL_VMVGA,
    .firmware = VMC_CAP(VMC_FIRMWARE_BIOS) | VMC_CAP(VMC_FIRMWARE_UEFI),
    .default_firmware = VMC_FIRMWARE_BIOS,
    .disk_formats = vmware_formats,
};

static struct vmc_plugin plugin = {
    .name        = "vmware",
    .version     = VMC_VERSION_STRING,
    .description = "VMware: reads .vmx (+ .vmsd), writes .vmx + VMDK; "
                   "OVF and OVA recognised (reading not implemented yet)",
    .probe2      = vmware_probe,
    .read2       = vmware_read,
    .write       = vmware_write,
    .caps        = &vmware_caps,
};

VMC_REGISTER_PLUGIN(plugin)
