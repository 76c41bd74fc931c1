/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in "disk" source of the pipeline: a bare disk image (any
 * format formats/ reads, recognised by content) becomes a VM with one
 * disk.  Its CPUs, memory and firmware come from the options, or are
 * guessed (the plan says which): 2 vCPUs, 2 GiB, and UEFI when the
 * disk has a GPT partition table holding an EFI system partition,
 * else BIOS.
 *
 * It is used when --from disk is given, or when no plugin claims the
 * source.  Probing without --from accepts a raw image (which any file
 * is) only if its size is a non-zero multiple of 512 bytes.  SOURCE
 * may also be an NBD URI ("nbd://HOST/EXPORT", "nbd+unix:///?socket=
 * PATH"): the export's bytes are read as the format they hold.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vmconv/image.h>
#include <vmconv/vm.h>

#include "internal.h"
#include "pipeline-internal.h"

#define DISK_GUESS_VCPUS 2
#define DISK_GUESS_MEMORY (2ull * 1024 * 1024 * 1024)

/* The EFI system partition's type GUID, as stored (mixed endian). */
static const uint8_t disk_esp_guid[16] = {
    0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
    0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b,
};

bool
vmc_pl_is_uri(const char *path)
{
    return strncmp(path, "nbd://", 6) == 0 ||
        strncmp(path, "nbds://", 7) == 0 ||
        strncmp(path, "nbd+unix://", 11) == 0 ||
        strncmp(path, "nbds+unix://", 12) == 0;
}

struct vmc_image *
vmc_pl_open_source(struct vmc_handle *h, const char *path,
                   const char *format, unsigned flags)
{
    flags &= ~VMC_IMAGE_RDWR;
    if (vmc_pl_is_uri(path))
        return vmc_image_open_uri(h, path, format, flags);
    /* A disk inside an OVA, read in place ("range:...", "concat:...",
     * "gzip:..."), or a file.
     */
    return vmc_image_open_name(h, path, format, flags);
}

bool
vmc_pl_disk_probe(struct vmc_handle *h, const char *source,
                  const char **format, bool any_format)
{
    struct stat st;
    const char *f;

    if (vmc_pl_is_uri(source)) {
        struct vmc_image *img = vmc_image_open_uri(h, source, NULL, 0);

        if (img == NULL) {
            vmc_clear_error(h);
            return false;
        }
        /* A static name, valid after the close. */
        for (const char *const *v = vmc_image_formats(); *v; v++)
            if (strcmp(*v, vmc_image_format(img)) == 0)
                *format = *v;
        vmc_image_close(img);
        return true;
    }
    if (stat(source, &st) == -1 || !S_ISREG(st.st_mode))
        return false;
    f = vmc_image_probe(h, source);
    if (f == NULL) {
        vmc_clear_error(h);
        return false;
    }
    if (!any_format && strcmp(f, "raw") == 0 &&
        (st.st_size == 0 || st.st_size % 512 != 0))
        return false;
    *format = f;
    return true;
}

/* True if IMG has a GPT (at LBA 1, 512-byte sectors) with an EFI
 * system partition among its first 128 entries.
 */
static bool
disk_has_esp(struct vmc_image *img)
{
    uint8_t hdr[512];
    CLEANUP_FREE uint8_t *ents = NULL;
    uint64_t lba, n, size, i;

    if (vmc_image_size(img) < 34 * 512 ||
        vmc_image_pread(img, hdr, sizeof hdr, 512) == -1 ||
        memcmp(hdr, "EFI PART", 8) != 0)
        return false;
    lba = vmc_le64(hdr + 72);
    n = vmc_le32(hdr + 80);
    size = vmc_le32(hdr + 84);
    if (n > 128)
        n = 128;
    if (size < 128 || size > 4096 || lba > vmc_image_size(img) / 512 ||
        (lba * 512) + n * size > vmc_image_size(img))
        return false;
    ents = malloc(n * size);
    if (ents == NULL || vmc_image_pread(img, ents, n * size, lba * 512) == -1)
        return false;
    for (i = 0; i < n; i++)
        if (memcmp(ents + i * size, disk_esp_guid, 16) == 0)
            return true;
    return false;
}

/* The VM's name: SOURCE's base name without its extension. */
static int
disk_set_name(struct vmc_vm *vm, const char *source)
{
    const char *base = strrchr(source, '/');
    CLEANUP_FREE char *name = strdup(base ? base + 1 : source);
    char *dot;

    if (name == NULL)
        return vmc_vm_set_string(vm, &vm->name, "disk");
    dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    return vmc_vm_set_string(vm, &vm->name, *name ? name : "disk");
}

struct vmc_vm *
vmc_pl_disk_read(struct pipeline *p, const char *format)
{
    struct vmc_handle *h = p->h;
    CLEANUP_IMAGE_CLOSE struct vmc_image *img = NULL;
    struct vmc_vm *vm;
    struct vmc_disk *d;
    char real[PATH_MAX];
    struct vmc_image *b;

    if (vmc_pl_is_uri(p->o.source))
        snprintf(real, sizeof real, "%s", p->o.source);
    else if (realpath(p->o.source, real) == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: %m", p->o.source);
        return NULL;
    }
    img = vmc_pl_open_source(h, real, format, p->o.image_flags);
    if (img == NULL)
        return NULL;
    vm = vmc_vm_new(h);
    if (vm == NULL)
        return NULL;
    d = vmc_vm_add_disk(vm);
    if (d == NULL || disk_set_name(vm, real) == -1 ||
        vmc_vm_set_string(vm, &vm->source_plugin, "disk") == -1 ||
        vmc_vm_set_string(vm, &vm->source_path, real) == -1 ||
        vmc_vm_set_string(vm, &d->path, real) == -1 ||
        vmc_vm_set_string(vm, &d->format, vmc_image_format(img)) == -1)
        goto fail;
    for (b = vmc_image_backing(img); b; b = vmc_image_backing(b))
        if (vmc_disk_add_backing(vm, d, vmc_image_path(b)) == -1)
            goto fail;
    d->virtual_size = vmc_image_size(img);
    d->device = VMC_DISK_DEVICE_DISK;
    d->boot_order = 1;
    vm->vcpus = DISK_GUESS_VCPUS;
    vm->memory = DISK_GUESS_MEMORY;
    vm->firmware = disk_has_esp(img) ? VMC_FIRMWARE_UEFI : VMC_FIRMWARE_BIOS;
    return vm;
 fail:
    vmc_vm_free(vm);
    return NULL;
}
