/* vmconv hyperv plugin: Hyper-V VMs (.vmcx of 2016 and later, the XML
 * configuration of 2012 / 2012 R2).
 *
 * What works: probe recognises a .vmcx by its container signature and a
 * 2012 configuration by its <configuration> root with a <manifest>, by
 * content, and the plugin declares what a Hyper-V target can express.
 * Reading and writing are not written yet and fail with a
 * plain error; they never return made-up data.  The formats are
 * described in ../shared/specs/hyperv-config.md.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

/* "HyperVStorage" container (.vmcx, .vmrs): u32 LE at offset 0. */
#define HYPERV_VMCX_SIGNATURE 0x01282014u

enum hyperv_kind {
    HYPERV_NONE,
    HYPERV_VMCX,
    HYPERV_XML,
};

/* True if NEEDLE (ASCII) is in BUF as 8-bit text or as UTF-16LE/BE. */
static bool
hyperv_contains(const char *buf, size_t len, const char *needle)
{
    size_t nlen = strlen(needle), i, j;

    if (memmem(buf, len, needle, nlen))
        return true;
    for (i = 0; i + 2 * nlen <= len; i++) {
        for (j = 0; j < nlen; j++)
            if (buf[i + 2 * j] != needle[j] || buf[i + 2 * j + 1] != '\0')
                break;
        if (j == nlen)
            return true;
    }
    return false;
}

static enum hyperv_kind
hyperv_kind_of(const struct vmc_probe_input *in, int *score)
{
    const unsigned char *buf = in->head;
    size_t n = in->head_len;
    uint32_t sig;

    *score = 0;
    if (!in->is_file)
        return HYPERV_NONE;
    if (n >= 4) {
        sig = (uint32_t) buf[0] | (uint32_t) buf[1] << 8 |
            (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24;
        if (sig == HYPERV_VMCX_SIGNATURE) {
            *score = 90;
            return HYPERV_VMCX;
        }
    }
    /* <configuration> alone is also .NET's app.config: ask for the
     * Hyper-V <manifest> too.
     */
    if (vmc_probe_xml_root(buf, n, "configuration") &&
        hyperv_contains((const char *) buf, n, "<manifest")) {
        *score = 90;
        return HYPERV_XML;
    }
    return HYPERV_NONE;
}

static int
hyperv_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    int score;

    hyperv_kind_of(in, &score);
    return score;
}

static struct vmc_vm *
hyperv_read(struct vmc_handle *h, const char *source,
            const struct vmc_read_options *opts)
{
    struct vmc_probe_input *in = vmc_probe_input_new(h, source);
    int score;

    if (in == NULL)
        return NULL;
    switch (hyperv_kind_of(in, &score)) {
    case HYPERV_VMCX:
        vmc_error(h, "%s: hyperv plugin: reading .vmcx is not implemented "
                  "yet", source);
        break;
    case HYPERV_XML:
        vmc_error(h, "%s: hyperv plugin: reading Hyper-V XML configuration "
                  "is not implemented yet", source);
        break;
    case HYPERV_NONE:
        vmc_error(h, "%s: hyperv plugin: not a Hyper-V .vmcx or XML "
                  "configuration", source);
        break;
    }
    vmc_probe_input_free(in);
    return NULL;
}

static int
hyperv_write(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts)
{
    vmc_error(h, "%s: hyperv plugin: writing a Hyper-V VM (VHDX and a "
              "PowerShell script) is not implemented yet", opts->outdir);
    return -1;
}

/* What Hyper-V offers a converted guest.  Generation 2 (UEFI, the
 * default) boots from synthetic SCSI only; generation 1 (BIOS) boots
 * from IDE and has SCSI for data disks.  The legacy NIC is generation
 * 1 only, for guests without the netvsc driver.
 */
static const char *const hyperv_vhdx_subformats[] = {
    "dynamic", "fixed", NULL
};

static const struct vmc_target_format hyperv_formats[] = {
    { "vhdx", hyperv_vhdx_subformats },
    { NULL, NULL },
};

static const struct vmc_target_caps hyperv_caps = {
    ._struct_size = sizeof hyperv_caps,
    .disk_buses = VMC_CAP(VMC_DISK_BUS_SCSI) | VMC_CAP(VMC_DISK_BUS_IDE),
    .default_disk_bus = VMC_DISK_BUS_SCSI,
    .controller_models = VMC_CAP(VMC_CONTROLLER_MODEL_HYPERV_SCSI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_PIIX4),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_HYPERV_SCSI,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_HYPERV_NETVSC) |
                  VMC_CAP(VMC_NIC_MODEL_HYPERV_LEGACY),
    .default_nic_model = VMC_NIC_MODEL_HYPERV_NETVSC,
    .video_models = VMC_CAP(VMC_VIDEO_MODEL_HYPERV),
    .default_video_model = VMC_VIDEO_MODEL_HYPERV,
    .firmware = VMC_CAP(VMC_FIRMWARE_UEFI) | VMC_CAP(VMC_FIRMWARE_BIOS),
    .default_firmware = VMC_FIRMWARE_UEFI,
    .disk_formats = hyperv_formats,
};

static struct vmc_plugin plugin = {
    .name        = "hyperv",
    .version     = VMC_VERSION_STRING,
    .description = "Hyper-V .vmcx and 2012 XML configurations (recognised; "
                   "reading and writing not implemented yet)",
    .probe2      = hyperv_probe,
    .read2       = hyperv_read,
    .write       = hyperv_write,
    .caps        = &hyperv_caps,
};

VMC_REGISTER_PLUGIN(plugin)
