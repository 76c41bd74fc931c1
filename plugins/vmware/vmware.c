/* vmconv vmware plugin: VMware VMs (.vmx, OVF, OVA).
 *
 * What works: probe recognises a .vmx (its keys), an OVF envelope and
 * an OVA (a tar whose first member is the .ovf), by content.  Reading
 * and writing are not written yet and fail with a plain error; they
 * never return made-up data.  The formats are described in
 * ../shared/specs/vmx.md and ovf.md.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vmconv/plugin.h>

/* Enough for the keys VMware writes first, and a tar header. */
#define VMWARE_PROBE_HEAD 65536

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

static enum vmware_kind
vmware_kind_of(const char *buf, size_t n, int *score)
{
    size_t name_len;

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

/* What SOURCE is, and how sure we are (*SCORE). */
static enum vmware_kind
vmware_kind(struct vmc_handle *h, const char *source, int *score)
{
    enum vmware_kind kind = VMWARE_NONE;
    char *buf = malloc(VMWARE_PROBE_HEAD);
    ptrdiff_t n;

    *score = 0;
    if (buf == NULL)
        return VMWARE_NONE;
    n = vmc_probe_read_head(h, source, buf, VMWARE_PROBE_HEAD);
    if (n > 0)
        kind = vmware_kind_of(buf, (size_t) n, score);
    free(buf);
    return kind;
}

static int
vmware_probe(struct vmc_handle *h, const char *source)
{
    int score;

    vmware_kind(h, source, &score);
    return score;
}

static struct vmc_vm *
vmware_read(struct vmc_handle *h, const char *source)
{
    int score;

    switch (vmware_kind(h, source, &score)) {
    case VMWARE_OVF:
        vmc_error(h, "%s: vmware plugin: reading OVF is not implemented yet",
                  source);
        break;
    case VMWARE_OVA:
        vmc_error(h, "%s: vmware plugin: reading OVA is not implemented yet",
                  source);
        break;
    case VMWARE_VMX:
        vmc_error(h, "%s: vmware plugin: reading .vmx is not implemented yet",
                  source);
        break;
    case VMWARE_NONE:
        vmc_error(h, "%s: vmware plugin: not a .vmx, OVF or OVA file",
                  source);
        break;
    }
    return NULL;
}

static int
vmware_write(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts)
{
    vmc_error(h, "%s: vmware plugin: writing .vmx is not implemented yet",
              opts->outdir);
    return -1;
}

static struct vmc_plugin plugin = {
    .name        = "vmware",
    .version     = PACKAGE_VERSION,
    .description = "VMware .vmx, OVF and OVA (recognised; reading and "
                   "writing not implemented yet)",
    .probe       = vmware_probe,
    .read        = vmware_read,
    .write       = vmware_write,
};

VMC_REGISTER_PLUGIN(plugin)
