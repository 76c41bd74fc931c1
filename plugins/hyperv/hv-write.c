/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv hyperv plugin: the VM model as a PowerShell script that
 * creates the VM on Hyper-V (target --to hyperv).
 *
 * Hyper-V's own configuration (.vmcx) cannot be written safely (no
 * public description is enough, ../shared/specs/hyperv-config.md
 * section 0), so the target is OUTDIR/NAME.ps1 beside the converted
 * disks: New-VM with the generation from the firmware (UEFI: 2, else
 * 1), Set-VMProcessor, Set-VMMemory, Set-VMFirmware (Secure Boot and
 * its template, boot order) or Set-VMBios, Add-VMHardDiskDrive /
 * Add-VMDvdDrive at each drive's controller and location,
 * Add-VMNetworkAdapter with static MAC addresses, switches and VLANs,
 * the TPM.  The disks are named relative to the script's own folder
 * ($PSScriptRoot, a parameter), so the folder can be copied anywhere.
 *
 * Every value from the source is written as a single-quoted
 * PowerShell string with its quotes doubled (PowerShell also ends such
 * strings at the typographic quotes U+2018-U+201B: they are doubled
 * too), never in a double-quoted string or a comment; numbers are
 * written by the writer itself.  The file is UTF-8 with a byte order
 * mark, which Windows PowerShell 5.1 needs to read non-ASCII text.
 *
 * What Hyper-V cannot take is said with a warning: IDE drives of a
 * generation 2 VM move to SCSI, a generation 1 VM has at most four IDE
 * drives, pass-through devices and snapshots are not carried.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <vmconv/plugin.h>

#include "cleanup.h"
#include "hv.h"

#define HVW_SCSI_CONTROLLERS 4
#define HVW_SCSI_UNITS 64

struct hvw {
    struct vmc_handle *h;
    const struct vmc_vm *vm;
    const struct vmc_write_options *opts;
    int generation;
    FILE *fp;                    /* open_memstream over BUF, LEN */
    char *buf;
    size_t len;
    bool oom;
};

/* Where a drive goes. */
struct hvw_slot {
    bool used;                   /* attached */
    bool scsi;
    unsigned ctrl, unit;
};

static void
hvw_raw(struct hvw *w, const char *s, size_t n)
{
    if (!w->oom && fwrite(s, 1, n, w->fp) != n)
        w->oom = true;
}

static void hvw_put(struct hvw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Text made by the writer itself (never a value from the source). */
static void
hvw_put(struct hvw *w, const char *fmt, ...)
{
    va_list ap;

    if (w->oom)
        return;
    va_start(ap, fmt);
    if (vfprintf(w->fp, fmt, ap) < 0)
        w->oom = true;
    va_end(ap);
}

/* S as a single-quoted PowerShell string: every character PowerShell
 * takes as a single quote (', U+2018, U+2019, U+201A, U+201B) doubled.
 */
static void
hvw_quote(struct hvw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    hvw_raw(w, "'", 1);
    while (*p) {
        if (*p == '\'') {
            hvw_raw(w, "''", 2);
            p++;
        }
        else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x98 &&
                 p[2] <= 0x9b) {
            hvw_raw(w, (const char *) p, 3);
            hvw_raw(w, (const char *) p, 3);
            p += 3;
        }
        else {
            hvw_raw(w, (const char *) p, 1);
            p++;
        }
    }
    hvw_raw(w, "'", 1);
}

/* PATH relative to the final output directory, or NULL when outside. */
static const char *
hvw_rel(const struct hvw *w, const char *path)
{
    const char *dir = w->opts->final_outdir;
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return NULL;
}

/* A file for the script: (Join-Path $DiskPath 'REL') when PATH is in
 * the output, else PATH itself (quoted) with a warning.
 */
static void
hvw_file(struct hvw *w, const char *path, const char *what)
{
    const char *rel = hvw_rel(w, path);
    char *copy, *p;

    if (rel == NULL) {
        vmc_warning(w->h, "%s: %s is not in the output directory: the "
                    "script names it by this path", what, path);
        hvw_quote(w, path);
        return;
    }
    /* Windows separators, for the host that runs the script. */
    copy = strdup(rel);
    if (copy == NULL) {
        w->oom = true;
        return;
    }
    for (p = copy; *p; p++)
        if (*p == '/')
            *p = '\\';
    hvw_put(w, "(Join-Path $DiskPath ");
    hvw_quote(w, copy);
    hvw_put(w, ")");
    free(copy);
}

/* The converted image of disk I, or NULL. */
static const char *
hvw_image(const struct hvw *w, size_t i)
{
    if (w->opts->nr_disks && w->opts->disk_final_paths)
        return w->opts->disk_final_paths[i];
    return NULL;
}

/* ---- Where the drives go ----------------------------------------------- */

static bool
hvw_taken(const struct hvw_slot *sl, size_t n, bool scsi, unsigned ctrl,
          unsigned unit)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (sl[i].used && sl[i].scsi == scsi && sl[i].ctrl == ctrl &&
            sl[i].unit == unit)
            return true;
    return false;
}

static int
hvw_free_slot(const struct hvw_slot *sl, size_t n, bool scsi,
              struct hvw_slot *out)
{
    unsigned c, u, maxc = scsi ? HVW_SCSI_CONTROLLERS : 2,
                   maxu = scsi ? HVW_SCSI_UNITS : 2;

    for (c = 0; c < maxc; c++)
        for (u = 0; u < maxu; u++)
            if (!hvw_taken(sl, n, scsi, c, u)) {
                out->used = true;
                out->scsi = scsi;
                out->ctrl = c;
                out->unit = u;
                return 0;
            }
    return -1;
}

/* Place every drive: a valid address is kept, the rest get the first
 * free slot (generation 1: IDE for disks and CD-ROMs while there is
 * room, the boot disk first; generation 2: SCSI).
 */
static int
hvw_place(struct hvw *w, struct hvw_slot *sl)
{
    const struct vmc_vm *vm = w->vm;
    size_t i, pass;

    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < vm->nr_disks; i++) {
            const struct vmc_disk *d = vm->disks[i];
            bool ide = d->bus == VMC_DISK_BUS_IDE;
            bool scsi = d->bus == VMC_DISK_BUS_SCSI;
            bool want_ide;

            if (d->device == VMC_DISK_DEVICE_LUN ||
                d->device == VMC_DISK_DEVICE_FLOPPY || sl[i].used)
                continue;
            if (d->device == VMC_DISK_DEVICE_DISK && !hvw_image(w, i))
                continue;
            if (pass == 0) {
                /* Keep what Hyper-V can have. */
                if (ide && w->generation == 1 && d->controller >= 0 &&
                    d->controller <= 1 && d->unit >= 0 && d->unit <= 1 &&
                    !hvw_taken(sl, vm->nr_disks, false,
                               (unsigned) d->controller, (unsigned) d->unit))
                    sl[i] = (struct hvw_slot) { true, false,
                        (unsigned) d->controller, (unsigned) d->unit };
                else if (scsi && d->controller >= 0 &&
                         d->controller < HVW_SCSI_CONTROLLERS &&
                         d->unit >= 0 && d->unit < HVW_SCSI_UNITS &&
                         !hvw_taken(sl, vm->nr_disks, true,
                                    (unsigned) d->controller,
                                    (unsigned) d->unit))
                    sl[i] = (struct hvw_slot) { true, true,
                        (unsigned) d->controller, (unsigned) d->unit };
                continue;
            }
            want_ide = w->generation == 1 && !scsi;
            if ((want_ide && hvw_free_slot(sl, vm->nr_disks, false,
                                           &sl[i]) == 0) ||
                hvw_free_slot(sl, vm->nr_disks, true, &sl[i]) == 0) {
                if (ide && w->generation == 2)
                    vmc_warning(w->h, "disk %zu: a generation 2 VM has no "
                                "IDE: moved to SCSI %u:%u", i, sl[i].ctrl,
                                sl[i].unit);
                else if (ide || scsi)
                    vmc_warning(w->h, "disk %zu: %s %d:%d is not free or "
                                "not valid on Hyper-V: moved to %s %u:%u", i,
                                vmc_disk_bus_to_string(d->bus),
                                d->controller, d->unit,
                                sl[i].scsi ? "SCSI" : "IDE", sl[i].ctrl,
                                sl[i].unit);
                else if (d->bus != VMC_DISK_BUS_UNKNOWN)
                    vmc_warning(w->h, "disk %zu: Hyper-V has no %s bus: "
                                "attached to %s %u:%u", i,
                                vmc_disk_bus_to_string(d->bus),
                                sl[i].scsi ? "SCSI" : "IDE", sl[i].ctrl,
                                sl[i].unit);
                continue;
            }
            vmc_error_kind(w->h, VMC_ERR_UNSUPPORTED, "%s: disk %zu: no "
                           "free IDE or SCSI slot left", w->opts->outdir, i);
            return -1;
        }
    return 0;
}

/* ---- The script ------------------------------------------------------------ */

static void
hvw_header(struct hvw *w)
{
    const struct vmc_vm *vm = w->vm;

    /* UTF-8 byte order mark. */
    hvw_raw(w, "\xef\xbb\xbf", 3);
    /* The file name goes in a comment: only plain names do. */
    bool plain = strspn(w->opts->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "abcdefghijklmnopqrstuvwxyz0123456789._-") ==
                 strlen(w->opts->name);

    hvw_put(w, "# Made by vmconv %s: creates this VM on Hyper-V from the "
            "disks beside\n"
            "# this script.  On the Hyper-V host, as an administrator:\n"
            "#   .\\%s.ps1 [-Name NAME] [-DiskPath DIR] [-VMPath DIR]\n"
            "#Requires -Modules Hyper-V\n"
            "[CmdletBinding()]\n"
            "param(\n"
            "    [string]$Name = ", VMC_VERSION_STRING,
            plain ? w->opts->name : "SCRIPT");
    hvw_quote(w, vm->name ? vm->name : w->opts->name);
    hvw_put(w, ",\n"
            "    [string]$DiskPath = $PSScriptRoot,\n"
            "    [string]$VMPath = $PSScriptRoot\n"
            ")\n"
            "$ErrorActionPreference = 'Stop'\n\n");
}

static const char *
hvw_template(const struct hvw *w)
{
    const struct vmc_vm *vm = w->vm;
    enum vmc_os_family fam = vm->os_family;

    switch (vm->secure_boot_template) {
    case VMC_SECURE_BOOT_TEMPLATE_MS_WINDOWS:
        return "MicrosoftWindows";
    case VMC_SECURE_BOOT_TEMPLATE_MS_UEFI_CA:
        return "MicrosoftUEFICertificateAuthority";
    case VMC_SECURE_BOOT_TEMPLATE_OPEN_SOURCE_SHIELDED:
        return "OpenSourceShieldedVM";
    default:
        break;
    }
    if (w->opts->guest && w->opts->guest->os_family != VMC_OS_FAMILY_UNKNOWN)
        fam = w->opts->guest->os_family;
    /* Linux shims are signed by the Microsoft UEFI CA. */
    return fam == VMC_OS_FAMILY_WINDOWS ? "MicrosoftWindows"
                                        : "MicrosoftUEFICertificateAuthority";
}

static int
hvw_vm(struct hvw *w)
{
    const struct vmc_vm *vm = w->vm;
    uint64_t mem = vm->memory, two = 2u << 20;

    if (mem == 0) {
        vmc_error_kind(w->h, VMC_ERR_UNSUPPORTED, "%s: the VM's memory size "
                       "is unknown: Hyper-V needs one (New-VM "
                       "-MemoryStartupBytes)", w->opts->outdir);
        return -1;
    }
    if (mem % two) {
        mem = (mem / two + 1) * two;
        vmc_warning(w->h, "memory %" PRIu64 " bytes rounded up to %" PRIu64
                    " (Hyper-V sizes memory in 2 MiB steps)", vm->memory,
                    mem);
    }
    hvw_put(w, "$vm = New-VM -Name $Name -Generation %d "
            "-MemoryStartupBytes %" PRIu64 " -NoVHD -Path $VMPath\n",
            w->generation, mem);
    /* New-VM adds a network adapter, and a DVD drive to generation 1. */
    hvw_put(w, "Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter\n"
            "Get-VMDvdDrive -VM $vm | Remove-VMDvdDrive\n");
    if (vm->vcpus > 1 || vm->nested_virt) {
        hvw_put(w, "Set-VMProcessor -VM $vm -Count %u", vm->vcpus ? vm->vcpus
                                                                  : 1);
        if (vm->nested_virt)
            hvw_put(w, " -ExposeVirtualizationExtensions $true");
        hvw_put(w, "\n");
    }
    if (vm->memory_min && vm->memory_min <= mem &&
        (vm->memory_max == 0 || vm->memory_max >= mem)) {
        uint64_t lo = vm->memory_min / two * two;
        uint64_t hi = vm->memory_max ? (vm->memory_max + two - 1) / two * two
                                     : mem;

        hvw_put(w, "Set-VMMemory -VM $vm -DynamicMemoryEnabled $true "
                "-MinimumBytes %" PRIu64 " -StartupBytes %" PRIu64
                " -MaximumBytes %" PRIu64 "\n", lo ? lo : two, mem, hi);
    }
    if (vm->description && *vm->description) {
        hvw_put(w, "Set-VM -VM $vm -Notes ");
        hvw_quote(w, vm->description);
        hvw_put(w, "\n");
    }
    if (w->generation == 2) {
        if (vm->secure_boot)
            hvw_put(w, "Set-VMFirmware -VM $vm -EnableSecureBoot On "
                    "-SecureBootTemplate %s\n", hvw_template(w));
        else
            hvw_put(w, "Set-VMFirmware -VM $vm -EnableSecureBoot Off\n");
        if (vm->tpm)
            hvw_put(w, "Set-VMKeyProtector -VM $vm -NewLocalKeyProtector\n"
                    "Enable-VMTPM -VM $vm\n");
    }
    else {
        if (vm->secure_boot)
            vmc_warning(w->h, "Secure Boot needs UEFI firmware: a BIOS VM "
                        "(generation 1) has none");
        if (vm->tpm)
            vmc_warning(w->h, "a virtual TPM needs a generation 2 (UEFI) VM: "
                        "not added");
    }
    return 0;
}

static void
hvw_drives(struct hvw *w, const struct hvw_slot *sl)
{
    const struct vmc_vm *vm = w->vm;
    unsigned scsi = w->generation == 2 ? 1 : 0, need = 0;
    bool warned_vhd = false;
    size_t i;

    for (i = 0; i < vm->nr_disks; i++)
        if (sl[i].used && sl[i].scsi && sl[i].ctrl + 1 > need)
            need = sl[i].ctrl + 1;
    for (; scsi < need; scsi++)
        hvw_put(w, "Add-VMScsiController -VM $vm\n");
    for (i = 0; i < vm->nr_disks; i++) {
        const struct vmc_disk *d = vm->disks[i];
        const char *type = sl[i].scsi ? "SCSI" : "IDE";
        char what[32];

        snprintf(what, sizeof what, "disk %zu", i);
        if (d->device == VMC_DISK_DEVICE_LUN) {
            vmc_warning(w->h, "disk %zu: a pass-through device cannot be "
                        "described for another host: not attached", i);
            continue;
        }
        if (d->device == VMC_DISK_DEVICE_FLOPPY) {
            if (d->path || d->source_ref)
                vmc_warning(w->h, "disk %zu: floppy images are not "
                            "attached (Set-VMFloppyDiskDrive takes only "
                            ".vfd files)", i);
            continue;
        }
        if (!sl[i].used) {
            vmc_warning(w->h, "disk %zu: no converted image (%s): not "
                        "attached", i, d->missing ? "missing in the source"
                                                  : "none given");
            continue;
        }
        if (d->device == VMC_DISK_DEVICE_CDROM && sl[i].scsi &&
            w->generation == 1) {
            vmc_warning(w->h, "disk %zu: a generation 1 VM has DVD drives "
                        "on IDE only, and its IDE slots are taken: not "
                        "attached", i);
            continue;
        }
        if (d->device == VMC_DISK_DEVICE_CDROM) {
            const char *iso = d->path ? d->path : d->source_ref;

            if (iso == NULL) {
                hvw_put(w, "$drive%zu = Add-VMDvdDrive -VM $vm "
                        "-ControllerNumber %u -ControllerLocation %u "
                        "-Passthru\n", i, sl[i].ctrl, sl[i].unit);
                continue;
            }
            /* An ISO is referred to, not converted: used when it was
             * copied beside the script.
             */
            {
                const char *base = strrchr(iso, '/');
                const char *bs = strrchr(iso, '\\');

                if (bs && (!base || bs > base))
                    base = bs;
                base = base ? base + 1 : iso;
                hvw_put(w, "$iso = Join-Path $DiskPath ");
                hvw_quote(w, base);
                hvw_put(w, "\nif (Test-Path -LiteralPath $iso) {\n"
                        "    $drive%zu = Add-VMDvdDrive -VM $vm "
                        "-ControllerNumber %u -ControllerLocation %u "
                        "-Path $iso -Passthru\n"
                        "} else {\n"
                        "    Write-Warning ('{0} is not there: the DVD drive "
                        "is left empty' -f $iso)\n"
                        "    $drive%zu = Add-VMDvdDrive -VM $vm "
                        "-ControllerNumber %u -ControllerLocation %u "
                        "-Passthru\n"
                        "}\n", i, sl[i].ctrl, sl[i].unit, i, sl[i].ctrl,
                        sl[i].unit);
                vmc_warning(w->h, "disk %zu: the ISO image %s is not "
                            "converted: copy it beside the script", i, iso);
            }
            continue;
        }
        if (w->generation == 2 && !warned_vhd) {
            const char *img = hvw_image(w, i);
            size_t len = strlen(img);

            if (len > 4 && strcasecmp(img + len - 4, ".vhd") == 0) {
                vmc_warning(w->h, "disk %zu: a generation 2 (UEFI) VM boots "
                            "only from VHDX, not from the VHD %s", i, img);
                warned_vhd = true;
            }
        }
        hvw_put(w, "$drive%zu = Add-VMHardDiskDrive -VM $vm -ControllerType "
                "%s -ControllerNumber %u -ControllerLocation %u -Path ", i,
                type, sl[i].ctrl, sl[i].unit);
        hvw_file(w, hvw_image(w, i), what);
        hvw_put(w, " -Passthru\n");
    }
}

/* Generation 1: the BIOS startup order of device kinds. */
static void
hvw_bios_order(struct hvw *w, const struct hvw_slot *sl)
{
    const struct vmc_vm *vm = w->vm;
    const char *kinds[4];
    size_t nk = 0, i, j;
    unsigned order;

    for (order = 1; order <= vm->nr_disks; order++)
        for (i = 0; i < vm->nr_disks; i++) {
            const struct vmc_disk *d = vm->disks[i];
            const char *k;

            if (d->boot_order != order || !sl[i].used)
                continue;
            if (d->device == VMC_DISK_DEVICE_CDROM)
                k = "CD";
            else if (!sl[i].scsi)
                k = "IDE";
            else {
                vmc_warning(w->h, "disk %zu: a generation 1 VM boots from "
                            "IDE only, not from SCSI %u:%u", i, sl[i].ctrl,
                            sl[i].unit);
                continue;
            }
            for (j = 0; j < nk; j++)
                if (strcmp(kinds[j], k) == 0)
                    break;
            if (j == nk)
                kinds[nk++] = k;
        }
    if (nk == 0)
        return;
    {
        static const char *const all[] = {
            "IDE", "CD", "LegacyNetworkAdapter", "Floppy"
        };

        for (i = 0; i < 4; i++) {
            for (j = 0; j < nk; j++)
                if (strcmp(kinds[j], all[i]) == 0)
                    break;
            if (j == nk)
                kinds[nk++] = all[i];
        }
    }
    hvw_put(w, "Set-VMBios -VM $vm -StartupOrder @(");
    for (i = 0; i < nk; i++)
        hvw_put(w, "%s'%s'", i ? ", " : "", kinds[i]);
    hvw_put(w, ")\n");
}

static void
hvw_boot(struct hvw *w, const struct hvw_slot *sl)
{
    const struct vmc_vm *vm = w->vm;
    unsigned order;
    size_t i, n = 0;

    if (w->generation == 1) {
        hvw_bios_order(w, sl);
        return;
    }
    /* The first boot device; UEFI tries the others in its own order. */
    for (order = 1; order <= vm->nr_disks && n == 0; order++)
        for (i = 0; i < vm->nr_disks && n == 0; i++)
            if (vm->disks[i]->boot_order == order && sl[i].used) {
                hvw_put(w, "Set-VMFirmware -VM $vm -FirstBootDevice "
                        "$drive%zu\n", i);
                n++;
            }
}

static void
hvw_nics(struct hvw *w)
{
    const struct vmc_vm *vm = w->vm;
    size_t i;

    for (i = 0; i < vm->nr_nics; i++) {
        const struct vmc_nic *n = vm->nics[i];
        bool legacy = n->model == VMC_NIC_MODEL_HYPERV_LEGACY;
        bool sw = n->network && *n->network &&
                  n->connection != VMC_CONNECTION_DISCONNECTED &&
                  (n->net_type == VMC_NET_TYPE_NETWORK ||
                   n->net_type == VMC_NET_TYPE_BRIDGE);

        if (legacy && w->generation == 2) {
            vmc_warning(w->h, "nic %zu: a generation 2 VM has no legacy "
                        "network adapter: a synthetic one is added", i);
            legacy = false;
        }
        hvw_put(w, "$nic%zu = Add-VMNetworkAdapter -VM $vm -Name ", i);
        {
            char name[48];

            snprintf(name, sizeof name, "Network Adapter %zu", i + 1);
            hvw_quote(w, name);
        }
        if (legacy)
            hvw_put(w, " -IsLegacy $true");
        if (n->mac) {
            char mac[13];
            size_t j, k = 0;

            for (j = 0; n->mac[j] && k < 12; j++)
                if (n->mac[j] != ':')
                    mac[k++] = (char) (n->mac[j] >= 'a' && n->mac[j] <= 'f'
                                       ? n->mac[j] - 'a' + 'A' : n->mac[j]);
            mac[k] = '\0';
            hvw_put(w, " -StaticMacAddress '%s'", mac);
        }
        hvw_put(w, " -Passthru\n");
        if (sw) {
            hvw_put(w, "$switch = ");
            hvw_quote(w, n->network);
            hvw_put(w, "\nif (Get-VMSwitch -Name $switch -ErrorAction "
                    "SilentlyContinue) {\n"
                    "    Connect-VMNetworkAdapter -VMNetworkAdapter $nic%zu "
                    "-SwitchName $switch\n"
                    "} else {\n"
                    "    Write-Warning ('no virtual switch {0}: the network "
                    "adapter is left unconnected' -f $switch)\n"
                    "}\n", i);
        }
        if (n->vlan >= 1 && n->vlan <= 4094)
            hvw_put(w, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $nic%zu "
                    "-Access -VlanId %u\n", i, n->vlan);
        else if (n->vlan)
            vmc_warning(w->h, "nic %zu: VLAN %u (all VLANs) is not carried",
                        i, n->vlan);
    }
}

static int
hvw_save(struct hvw *w)
{
    CLEANUP_FREE char *path = NULL;

    if (asprintf(&path, "%s/%s.ps1", w->opts->outdir, w->opts->name) == -1) {
        path = NULL;
        vmc_error(w->h, "%s: out of memory", w->opts->outdir);
        return -1;
    }
    return vmc_write_file_new(w->h, path, w->buf, w->len);
}

int
hv_write(struct vmc_handle *h, const struct vmc_vm *vm,
         const struct vmc_write_options *opts)
{
    struct hvw w = { .h = h, .vm = vm, .opts = opts };
    CLEANUP_FREE struct hvw_slot *sl = NULL;
    int r = -1;

    if (vm->firmware == VMC_FIRMWARE_UEFI)
        w.generation = 2;
    else {
        w.generation = 1;
        if (vm->firmware == VMC_FIRMWARE_UNKNOWN)
            vmc_warning(h, "the VM's firmware is unknown: written as a "
                        "generation 1 (BIOS) VM");
    }
    sl = calloc(vm->nr_disks + 1, sizeof *sl);
    w.fp = sl ? open_memstream(&w.buf, &w.len) : NULL;
    if (w.fp == NULL) {
        vmc_error(h, "%s: out of memory", opts->outdir);
        return -1;
    }
    hvw_header(&w);
    if (hvw_vm(&w) == -1 || hvw_place(&w, sl) == -1)
        goto out;
    hvw_drives(&w, sl);
    hvw_boot(&w, sl);
    hvw_nics(&w);
    hvw_put(&w, "$vm\n");
    if (vm->nr_snapshots)
        vmc_warning(h, "the source's %zu snapshots are not carried: the VM "
                    "is written in its current state", vm->nr_snapshots);
    if (fclose(w.fp) != 0)
        w.oom = true;
    w.fp = NULL;
    if (w.oom) {
        vmc_error(h, "%s: out of memory", opts->outdir);
        goto out;
    }
    r = hvw_save(&w);
 out:
    if (w.fp)
        fclose(w.fp);
    free(w.buf);
    return r;
}
