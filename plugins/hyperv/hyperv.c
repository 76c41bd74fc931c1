/* vmconv hyperv plugin: Hyper-V VMs (.vmcx of 2016 and later, the XML
 * configuration of 2012 / 2012 R2).
 *
 * What works: probe recognises a .vmcx by its container signature and a
 * 2012 configuration by its <configuration> root with a <manifest>, by
 * content.  Reading and writing are not written yet and fail with a
 * plain error; they never return made-up data.  The formats are
 * described in ../shared/specs/hyperv-config.md.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <vmconv/plugin.h>

#define HYPERV_PROBE_HEAD 65536
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
hyperv_kind_of(const unsigned char *buf, size_t n, int *score)
{
    uint32_t sig;

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

static enum hyperv_kind
hyperv_kind(struct vmc_handle *h, const char *source, int *score)
{
    enum hyperv_kind kind = HYPERV_NONE;
    unsigned char *buf = malloc(HYPERV_PROBE_HEAD);
    ptrdiff_t n;

    *score = 0;
    if (buf == NULL)
        return HYPERV_NONE;
    n = vmc_probe_read_head(h, source, buf, HYPERV_PROBE_HEAD);
    if (n > 0)
        kind = hyperv_kind_of(buf, (size_t) n, score);
    free(buf);
    return kind;
}

static int
hyperv_probe(struct vmc_handle *h, const char *source)
{
    int score;

    hyperv_kind(h, source, &score);
    return score;
}

static struct vmc_vm *
hyperv_read(struct vmc_handle *h, const char *source)
{
    int score;

    switch (hyperv_kind(h, source, &score)) {
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

static struct vmc_plugin plugin = {
    .name        = "hyperv",
    .version     = PACKAGE_VERSION,
    .description = "Hyper-V .vmcx and 2012 XML configurations (recognised; "
                   "reading and writing not implemented yet)",
    .probe       = hyperv_probe,
    .read        = hyperv_read,
    .write       = hyperv_write,
};

VMC_REGISTER_PLUGIN(plugin)
