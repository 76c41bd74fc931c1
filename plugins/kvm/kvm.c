/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv kvm plugin: KVM guests as libvirt domain XML.
 *
 * Reads a domain XML file (as `virsh dumpxml` prints it) or a domain
 * of a libvirt connection (uri=URI, read-only) into the VM model, and
 * writes a converted VM as the domain XML a libvirt user would write
 * for it, defining it through libvirt in finish when a libvirt URI is
 * given.  Notes on the target: ../shared/specs/libvirt-domain.md;
 * what is read and written: vmconv-kvm-plugin(1).
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <unistd.h>

#include <libxml/tree.h>

#include <vmconv/plugin.h>

#include "kvm-internal.h"
#include "kvm-host.h"

/* ---- Parameters ------------------------------------------------------ */

/* KEY=VALUE in PARAM: *VALUE points into PARAM.  0 if KEY matches. */
static bool
param_is(const char *param, const char *key, const char **value)
{
    size_t n = strlen(key);

    if (strncmp(param, key, n) != 0 || param[n] != '=')
        return false;
    *value = param + n + 1;
    return true;
}

int
kvm_read_params_parse(struct vmc_handle *h, const char *source,
                      const struct vmc_read_options *opts,
                      struct kvm_read_params *p)
{
    const char *v;
    size_t i;

    memset(p, 0, sizeof *p);
    for (i = 0; opts && i < opts->nr_params; i++) {
        const char *param = opts->params[i];

        if (param_is(param, "uri", &v)) {
            if (*v == '\0') {
                vmc_error(h, "%s: kvm plugin: uri= needs a libvirt URI",
                          source);
                return -1;
            }
            p->uri = v;
        }
        else if (param_is(param, "allow-running", &v)) {
            if (vmc_parse_bool(h, "kvm plugin: allow-running", v,
                               &p->allow_running) == -1)
                return -1;
        }
        else {
            vmc_error(h, "%s: kvm plugin: unknown read parameter '%s' "
                      "(it reads uri=URI and allow-running=on)", source,
                      param);
            return -1;
        }
    }
    return 0;
}

int
kvm_write_params_parse(struct vmc_handle *h,
                       const struct vmc_write_options *opts,
                       struct kvm_write_params *p)
{
    const char *v;
    size_t i;

    memset(p, 0, sizeof *p);
    p->domain_type = "kvm";
    for (i = 0; i < opts->nr_params; i++) {
        const char *param = opts->params[i];

        if (param_is(param, "domain-type", &v)) {
            if (strcmp(v, "kvm") != 0 && strcmp(v, "qemu") != 0) {
                vmc_error(h, "kvm plugin: domain-type=%s: give kvm or qemu",
                          v);
                return -1;
            }
            p->domain_type = strcmp(v, "kvm") == 0 ? "kvm" : "qemu";
        }
        else if (param_is(param, "replace", &v)) {
            if (vmc_parse_bool(h, "kvm plugin: replace", v, &p->replace) == -1)
                return -1;
        }
        else {
            vmc_error(h, "kvm plugin: unknown write parameter '%s' (it "
                      "writes with domain-type=kvm|qemu and replace=on)",
                      param);
            return -1;
        }
    }
    return 0;
}

/* ---- Probe, read, write, finish -------------------------------------- */

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
    struct kvm_read_params p;
    struct vmc_probe_input *in;
    struct vmc_vm *vm;
    xmlDocPtr doc;
    char *base, *slash;

    if (kvm_read_params_parse(h, source, opts, &p) == -1)
        return NULL;
    if (p.uri)
        return kvm_virt_read(h, p.uri, source, p.allow_running);

    in = vmc_probe_input_new(h, source);
    if (in == NULL)
        return NULL;
    if (!kvm_is_domain(in)) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: kvm plugin: not libvirt "
                       "domain XML (its root element is not <domain>)%s",
                       source, in->is_file ? "" :
                       "; to read a domain of a libvirt connection, give "
                       "uri=URI and its name");
        vmc_probe_input_free(in);
        return NULL;
    }
    vmc_probe_input_free(in);
    doc = vmc_xml_read_file(h, source, KVM_XML_MAX);
    if (doc == NULL)
        return NULL;
    base = strdup(source);
    if (base == NULL) {
        xmlFreeDoc(doc);
        vmc_error(h, "out of memory");
        return NULL;
    }
    slash = strrchr(base, '/');
    if (slash == NULL)
        strcpy(base, ".");
    else if (slash == base)
        base[1] = '\0';
    else
        *slash = '\0';
    vm = kvm_domain_to_vm(h, doc, source, base, NULL, p.allow_running);
    free(base);
    xmlFreeDoc(doc);
    return vm;
}

static int
kvm_write(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    return kvm_write_domain(h, vm, opts);
}

/* Before anything is written: a domain of type kvm on a host where KVM
 * cannot run it.
 */
static int
kvm_check(struct vmc_handle *h, const struct vmc_vm *vm,
          const struct vmc_write_options *opts)
{
    struct kvm_write_params params;
    const char *why;

    (void) vm;
    if (kvm_write_params_parse(h, opts, &params) == -1)
        return -1;
    if (strcmp(params.domain_type, "kvm") == 0 && !vmc_kvm_host_usable(&why))
        vmc_warning(h, "KVM is not usable here (%s): a domain of type kvm "
                    "may not start or boot on this host; domain-type=qemu "
                    "runs it under emulation", why);
    return 0;
}

static int
kvm_finish(struct vmc_handle *h, const struct vmc_vm *vm,
           const struct vmc_write_options *opts)
{
    return kvm_finish_domain(h, vm, opts);
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
    .description = "KVM / libvirt: reads and writes domain XML, reads and "
                   "defines domains through libvirt",
    .probe2      = kvm_probe,
    .read2       = kvm_read,
    .write       = kvm_write,
    .finish      = kvm_finish,
    .check       = kvm_check,
    .config_help =
        "uri=URI               (read) SOURCE names a domain at this libvirt "
        "URI\n"
        "allow-running=on      (read) read a running domain anyway\n"
        "domain-type=kvm|qemu  (write) kvm (default), or qemu: emulation\n"
        "replace=on            (write) define over a domain of the same name "
        "or UUID",
    .caps        = &kvm_caps,
};

VMC_REGISTER_PLUGIN(plugin)
