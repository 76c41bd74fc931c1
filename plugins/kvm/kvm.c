/* vmconv kvm plugin: KVM guests as libvirt domain XML.
 *
 * What works: probe recognises libvirt domain XML (a <domain> root
 * element) by content, and the plugin declares what a KVM target can
 * express (its capabilities).  Reading and writing are not written yet
 * and fail with a plain error; they never return made-up data.  The
 * target side is described in ../shared/specs/libvirt-domain.md.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

static bool
kvm_is_domain(const struct vmc_probe_input *in)
{
    return in->is_file &&
        vmc_probe_xml_root(in->head, in->head_len, "domain");
}

static int
kvm_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    return kvm_is_domain(in) ? 90 : 0;
}

static struct vmc_vm *
kvm_read(struct vmc_handle *h, const char *source,
         const struct vmc_read_options *opts)
{
    struct vmc_probe_input *in = vmc_probe_input_new(h, source);

    if (in == NULL)
        return NULL;
    if (kvm_is_domain(in))
        vmc_error(h, "%s: kvm plugin: reading libvirt domain XML is not "
                  "implemented yet", source);
    else
        vmc_error(h, "%s: kvm plugin: not libvirt domain XML", source);
    vmc_probe_input_free(in);
    return NULL;
}

static int
kvm_write(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    vmc_error(h, "%s: kvm plugin: writing libvirt domain XML is not "
              "implemented yet", opts->outdir);
    return -1;
}

/* What QEMU/KVM under libvirt offers a converted guest.  Defaults are
 * the fast paravirtual devices; the planner falls back to the emulated
 * ones (sata, e1000e) for guests without virtio drivers.
 */
static const struct vmc_target_format kvm_formats[] = {
    { "qcow2", NULL },
    { "raw", NULL },
    { NULL, NULL },
};

static const struct vmc_target_caps kvm_caps = {
    ._struct_size = sizeof kvm_caps,
    .disk_buses = VMC_CAP(VMC_DISK_BUS_VIRTIO) | VMC_CAP(VMC_DISK_BUS_SCSI) |
                  VMC_CAP(VMC_DISK_BUS_SATA) | VMC_CAP(VMC_DISK_BUS_IDE),
    .default_disk_bus = VMC_DISK_BUS_VIRTIO,
    .controller_models = VMC_CAP(VMC_CONTROLLER_MODEL_VIRTIO_SCSI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_AHCI) |
                         VMC_CAP(VMC_CONTROLLER_MODEL_PIIX3),
    .default_scsi_controller = VMC_CONTROLLER_MODEL_VIRTIO_SCSI,
    .nic_models = VMC_CAP(VMC_NIC_MODEL_VIRTIO) |
                  VMC_CAP(VMC_NIC_MODEL_E1000E) |
                  VMC_CAP(VMC_NIC_MODEL_E1000) |
                  VMC_CAP(VMC_NIC_MODEL_RTL8139),
    .default_nic_model = VMC_NIC_MODEL_VIRTIO,
    .video_models = VMC_CAP(VMC_VIDEO_MODEL_VGA) |
                    VMC_CAP(VMC_VIDEO_MODEL_VIRTIO) |
                    VMC_CAP(VMC_VIDEO_MODEL_QXL) |
                    VMC_CAP(VMC_VIDEO_MODEL_BOCHS) |
                    VMC_CAP(VMC_VIDEO_MODEL_CIRRUS) |
                    VMC_CAP(VMC_VIDEO_MODEL_NONE),
    .default_video_model = VMC_VIDEO_MODEL_VGA,
    .firmware = VMC_CAP(VMC_FIRMWARE_BIOS) | VMC_CAP(VMC_FIRMWARE_UEFI),
    .default_firmware = VMC_FIRMWARE_BIOS,
    .disk_formats = kvm_formats,
};

static struct vmc_plugin plugin = {
    .name        = "kvm",
    .version     = VMC_VERSION_STRING,
    .description = "KVM / libvirt domain XML (recognised; reading and "
                   "writing not implemented yet)",
    .probe2      = kvm_probe,
    .read2       = kvm_read,
    .write       = kvm_write,
    .caps        = &kvm_caps,
};

VMC_REGISTER_PLUGIN(plugin)
