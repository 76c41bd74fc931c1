/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: VMware VMs (.vmx, OVF, OVA).
 *
 * What works: probe recognises a .vmx (its keys), an OVF envelope, a
 * directory holding one .ovf and an OVA (a tar, gzip'd tar or zip whose
 * first member is the .ovf), by content; a .vmx is read by vmx.c (with
 * the parser of vmx-parse.c) and written by vmx-write.c; OVF and OVA
 * are read by ovf.c and ova.c, and an OVA is written by ova-write.c
 * (target parameter format=ova); the plugin declares what a VMware
 * target can express.  The formats are described in
 * ../shared/specs/vmx.md and ovf.md.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <zlib.h>

#include <vmconv/plugin.h>

#include "ovf.h"
#include "vmx.h"

enum vmware_kind {
    VMWARE_NONE,
    VMWARE_VMX,
    VMWARE_OVF,
    VMWARE_OVA,
    VMWARE_OVF_DIR,              /* a directory holding one .ovf */
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

/* True if SOURCE is a directory holding exactly one .ovf. */
static bool
vmware_is_ovf_dir(const char *source)
{
    char *ovf = NULL;
    struct stat st;
    size_t n;

    if (source == NULL || stat(source, &st) == -1 || !S_ISDIR(st.st_mode))
        return false;
    n = ova_dir_find_ovf(source, &ovf);
    free(ovf);
    return n == 1;
}

/* True if the first file of the tar starting at BUF (N bytes) is an
 * .ovf, past pax ('x', 'g') and GNU long-name ('L') headers, whose
 * name is then the file's.
 */
static bool
vmware_tar_first_is_ovf(const char *buf, size_t n)
{
    size_t off = 0, name_len, name_max = 0;
    const char *name = NULL;
    int hops;

    for (hops = 0; hops < 4 && off + 512 <= n; hops++) {
        const char *hd = buf + off;
        char type = hd[156];
        unsigned long size;
        char sz[13];

        if (memcmp(hd + 257, "ustar", 5) != 0)
            return false;
        memcpy(sz, hd + 124, 12);
        sz[12] = '\0';
        size = strtoul(sz, NULL, 8);
        if (type == 'x' || type == 'g' || type == 'L') {
            if (type == 'L' && off + 512 + size <= n && size > 0) {
                name = buf + off + 512;     /* the long name */
                name_max = size;
            }
            if (size > n)
                return false;
            off += 512 + (size + 511) / 512 * 512;
            continue;
        }
        if (name == NULL) {
            name = hd;
            name_max = 100;
        }
        name_len = strnlen(name, name_max);
        /* A pax path= record would name it too; ".ovf" ends both. */
        return name_len > 4 &&
            strncasecmp(name + name_len - 4, ".ovf", 4) == 0;
    }
    return false;
}

/* True if the gzip data BUF (N bytes, the head of a file) starts a tar
 * whose first member is an .ovf.
 */
static bool
vmware_gzip_tar_ovf(const char *buf, size_t n)
{
    static const size_t out_size = 8192;
    unsigned char *out = malloc(out_size);
    z_stream z;
    size_t got;
    bool ok;

    if (out == NULL)
        return false;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        free(out);
        return false;
    }
    z.next_in = (Bytef *) buf;
    z.avail_in = (uInt) n;
    z.next_out = out;
    z.avail_out = (uInt) out_size;
    inflate(&z, Z_SYNC_FLUSH);
    got = out_size - z.avail_out;
    inflateEnd(&z);
    ok = got >= 512 && vmware_tar_first_is_ovf((const char *) out, got);
    free(out);
    return ok;
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
    if (!in->is_file && vmware_is_ovf_dir(in->source)) {
        *score = 80;
        return VMWARE_OVF_DIR;
    }
    if (!in->is_file || n == 0)
        return VMWARE_NONE;
    /* OVA: ustar magic at 257, first member "*.ovf". */
    if (n >= 512 && memcmp(buf + 257, "ustar", 5) == 0) {
        if (vmware_tar_first_is_ovf(buf, n)) {
            *score = 90;
            return VMWARE_OVA;
        }
        return VMWARE_NONE;
    }
    /* A zip or a gzip'd tar whose first member is the .ovf. */
    if (n >= 30 && memcmp(buf, "PK\3\4", 4) == 0) {
        name_len = (unsigned char) buf[26] | (unsigned char) buf[27] << 8;
        if (name_len > 4 && 30 + name_len <= n &&
            strncasecmp(buf + 30 + name_len - 4, ".ovf", 4) == 0) {
            *score = 90;
            return VMWARE_OVA;
        }
        return VMWARE_NONE;
    }
    if (n >= 18 && (unsigned char) buf[0] == 0x1f &&
        (unsigned char) buf[1] == 0x8b) {
        if (vmware_gzip_tar_ovf(buf, n)) {
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

/* True if IN starts like a tar, a zip, a gzip or an xz file. */
static bool
vmware_is_archive(const struct vmc_probe_input *in)
{
    const char *b = (const char *) in->head;
    size_t n = in->head_len;

    return (n >= 512 && memcmp(b + 257, "ustar", 5) == 0) ||
        (n >= 4 && memcmp(b, "PK\3\4", 4) == 0) ||
        (n >= 2 && (unsigned char) b[0] == 0x1f &&
         (unsigned char) b[1] == 0x8b) ||
        (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0);
}

static int
vmware_probe(struct vmc_handle *h, const struct vmc_probe_input *in)
{
    int score;

    vmware_kind_of(in, &score);
    return score;
}

/* The parameters read2 accepts (config_help lists them). */
static const char *const vmware_read_params[] = { "vm", NULL };

static int
vmware_check_params(struct vmc_handle *h, const char *source,
                    const struct vmc_read_options *opts)
{
    size_t i, j;

    for (i = 0; i < opts->nr_params; i++) {
        const char *eq = strchr(opts->params[i], '=');
        size_t len = eq ? (size_t) (eq - opts->params[i])
                        : strlen(opts->params[i]);

        for (j = 0; vmware_read_params[j]; j++)
            if (strlen(vmware_read_params[j]) == len &&
                strncmp(opts->params[i], vmware_read_params[j], len) == 0)
                break;
        if (vmware_read_params[j] == NULL) {
            vmc_error(h, "%s: vmware plugin: unknown parameter '%.*s' "
                      "(vmconv plugins --help vmware lists them)", source,
                      (int) len, opts->params[i]);
            return -1;
        }
    }
    return 0;
}

static struct vmc_vm *
vmware_read(struct vmc_handle *h, const char *source,
            const struct vmc_read_options *opts)
{
    struct vmc_probe_input *in = vmc_probe_input_new(h, source);
    int score;

    if (in == NULL)
        return NULL;
    if (vmware_check_params(h, source, opts) == -1) {
        vmc_probe_input_free(in);
        return NULL;
    }
    switch (vmware_kind_of(in, &score)) {
    case VMWARE_OVF:
        vmc_probe_input_free(in);
        return ova_read_ovf_file(h, source, opts);
    case VMWARE_OVA:
        vmc_probe_input_free(in);
        return ova_read_ova(h, source, opts);
    case VMWARE_OVF_DIR:
        vmc_probe_input_free(in);
        return ova_read_dir(h, source, opts);
    case VMWARE_VMX:
        vmc_probe_input_free(in);
        return vmx_read(h, source, opts);
    case VMWARE_NONE: {
        size_t len = strlen(source);
        struct stat st;

        /* Asked for explicitly (--from vmware): an archive is read as
         * an OVA and a directory as an OVF package, which say what is
         * wrong with them.
         */
        if (in->is_file && vmware_is_archive(in)) {
            vmc_probe_input_free(in);
            return ova_read_ova(h, source, opts);
        }
        if (stat(source, &st) == 0 && S_ISDIR(st.st_mode)) {
            vmc_probe_input_free(in);
            return ova_read_dir(h, source, opts);
        }

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
    const char *format = vmware_param(opts->nr_params, opts->params,
                                      "format");

    if (format && strcmp(format, "ova") == 0)
        return ova_write(h, vm, opts);
    if (format && strcmp(format, "vmx") != 0) {
        vmc_error(h, "%s: vmware plugin: format=%s: unknown output format "
                  "(vmx or ova)", opts->outdir, format);
        return -1;
    }
    return vmx_write(h, vm, opts);
}

/* Before anything is written: the MACs VMware will not take as static
 * addresses (only 00:50:56:00:00:00 - 00:50:56:3f:ff:ff; its own
 * generated prefixes 00:0c:29 and 00:05:69 are kept as generated).
 * The writer keeps the others as generated addresses, which VMware
 * replaces: a guest binding its network setup to the MAC loses it.
 */
static int
vmware_check(struct vmc_handle *h, const struct vmc_vm *vm,
             const struct vmc_write_options *opts)
{
    const char *format = vmware_param(opts->nr_params, opts->params,
                                      "format");
    size_t i;

    if (format && strcmp(format, "ova") != 0 && strcmp(format, "vmx") != 0) {
        vmc_error(h, "vmware plugin: format=%s: unknown output format "
                  "(vmx or ova)", format);
        return -1;
    }
    for (i = 0; i < vm->nr_nics; i++) {
        const char *mac = vm->nics[i]->mac;
        unsigned b4;

        if (mac == NULL || strncmp(mac, "00:0c:29:", 9) == 0 ||
            strncmp(mac, "00:05:69:", 9) == 0)
            continue;
        if (strncmp(mac, "00:50:56:", 9) == 0) {
            if (sscanf(mac + 9, "%2x", &b4) == 1 && b4 > 0x3f)
                vmc_warning(h, "nics[%zu]: MAC %s is in VMware's range kept "
                            "for vCenter (above 00:50:56:3f:ff:ff): VMware "
                            "will not take it as a static address", i, mac);
            continue;
        }
        vmc_warning(h, "nics[%zu]: MAC %s is not a VMware address: VMware "
                    "will not take it as a static address (00:50:56:00:00:00"
                    " - 00:50:56:3f:ff:ff) and gives the NIC a new one; a "
                    "guest that binds its network setup to the MAC loses it",
                    i, mac);
    }
    return 0;
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

static const char vmware_config_help[] =
    "vm=NAME       (read) the virtual machine to read from an OVF/OVA\n"
    "              vApp (VirtualSystemCollection), by ovf:id or Name\n"
    "format=ova    (write) an OVA: OVF 1.0 envelope, SHA256 manifest and\n"
    "              streamOptimized VMDKs (format=vmx, the default: a .vmx)";

static struct vmc_plugin plugin = {
    .name        = "vmware",
    .version     = VMC_VERSION_STRING,
    .description = "VMware: reads .vmx (+ .vmsd), OVF and OVA; writes "
                   ".vmx + VMDK, or an OVA (format=ova)",
    .probe2      = vmware_probe,
    .read2       = vmware_read,
    .write       = vmware_write,
    .caps        = &vmware_caps,
    .config_help = vmware_config_help,
    .check       = vmware_check,
};

VMC_REGISTER_PLUGIN(plugin)
