/* vmconv kvm plugin: KVM guests as libvirt domain XML.
 *
 * What works: probe recognises libvirt domain XML (a <domain> root
 * element) by content.  Reading and writing are not written yet and
 * fail with a plain error; they never return made-up data.  The target
 * side is described in ../shared/specs/libvirt-domain.md.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

#define KVM_PROBE_HEAD 65536

static bool
kvm_is_domain(struct vmc_handle *h, const char *source)
{
    char *buf = malloc(KVM_PROBE_HEAD);
    ptrdiff_t n;
    bool r = false;

    if (buf == NULL)
        return false;
    n = vmc_probe_read_head(h, source, buf, KVM_PROBE_HEAD);
    if (n > 0)
        r = vmc_probe_xml_root(buf, (size_t) n, "domain");
    free(buf);
    return r;
}

static int
kvm_probe(struct vmc_handle *h, const char *source)
{
    return kvm_is_domain(h, source) ? 90 : 0;
}

static struct vmc_vm *
kvm_read(struct vmc_handle *h, const char *source)
{
    if (kvm_is_domain(h, source))
        vmc_error(h, "%s: kvm plugin: reading libvirt domain XML is not "
                  "implemented yet", source);
    else
        vmc_error(h, "%s: kvm plugin: not libvirt domain XML", source);
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

static struct vmc_plugin plugin = {
    .name        = "kvm",
    .version     = PACKAGE_VERSION,
    .description = "KVM / libvirt domain XML (recognised; reading and "
                   "writing not implemented yet)",
    .probe       = kvm_probe,
    .read        = kvm_read,
    .write       = kvm_write,
};

VMC_REGISTER_PLUGIN(plugin)
