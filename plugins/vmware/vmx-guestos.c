/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv vmware plugin: VMware guestOS ids, both ways.
 *
 * A .vmx names the guest with an id such as "rhel9-64" or "windows9-64"
 * (Windows 10): the base id, "-64" for a 64-bit guest, "arm-" before
 * it for an Arm guest.  OVF and the vSphere API spell the same ids
 * "rhel9_64Guest"; those are accepted too.  The table maps the base id
 * to the model's OS family, distro and version (facts from VMware's
 * guest OS lists as libvirt, virt-v2v and govmomi repeat them; ids
 * that name no version have none).
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmx.h"

#define W VMC_OS_FAMILY_WINDOWS
#define L VMC_OS_FAMILY_LINUX
#define O VMC_OS_FAMILY_OTHER

static const struct vmx_guest vmx_guests[] = {
    /* Windows */
    { "win31", W, "windows", "3.1" },
    { "win95", W, "windows", "95" },
    { "win98", W, "windows", "98" },
    { "winme", W, "windows", "me" },
    { "winnt", W, "windows", "nt" },
    { "nt4", W, "windows", "nt4" },
    { "win2000", W, "windows", "2000" },
    { "win2000pro", W, "windows", "2000" },
    { "win2000serv", W, "windows", "2000" },
    { "win2000advserv", W, "windows", "2000" },
    { "winxphome", W, "windows", "xp" },
    { "winxppro", W, "windows", "xp" },
    { "winnetweb", W, "windows", "2003" },
    { "winnetstandard", W, "windows", "2003" },
    { "winnetenterprise", W, "windows", "2003" },
    { "winnetdatacenter", W, "windows", "2003" },
    { "winnetbusiness", W, "windows", "2003" },
    { "longhorn", W, "windows", "2008" },
    { "winvista", W, "windows", "vista" },
    { "windows7", W, "windows", "7" },
    { "windows7srv", W, "windows", "2008r2" },
    { "windows7server", W, "windows", "2008r2" },
    { "windows8", W, "windows", "8" },
    { "windows8srv", W, "windows", "2012" },
    { "windows8server", W, "windows", "2012" },
    { "windows9", W, "windows", "10" },
    { "windows9srv", W, "windows", "2016" },
    { "windows9server", W, "windows", "2016" },
    { "windows2019srv", W, "windows", "2019" },
    { "windows2019srvnext", W, "windows", "2022" },
    { "windows2022srvnext", W, "windows", "2025" },
    { "windows11", W, "windows", "11" },
    { "windows12", W, "windows", "12" },
    { "windowshyperv", W, "windows", "hyperv" },
    /* Linux */
    { "rhel2", L, "rhel", "2" },
    { "rhel3", L, "rhel", "3" },
    { "rhel4", L, "rhel", "4" },
    { "rhel5", L, "rhel", "5" },
    { "rhel6", L, "rhel", "6" },
    { "rhel7", L, "rhel", "7" },
    { "rhel8", L, "rhel", "8" },
    { "rhel9", L, "rhel", "9" },
    { "rhel10", L, "rhel", "10" },
    { "redhat", L, "rhel", NULL },
    { "centos", L, "centos", NULL },
    { "centos6", L, "centos", "6" },
    { "centos7", L, "centos", "7" },
    { "centos8", L, "centos", "8" },
    { "centos9", L, "centos", "9" },
    { "oraclelinux", L, "oraclelinux", NULL },
    { "oraclelinux6", L, "oraclelinux", "6" },
    { "oraclelinux7", L, "oraclelinux", "7" },
    { "oraclelinux8", L, "oraclelinux", "8" },
    { "oraclelinux9", L, "oraclelinux", "9" },
    { "oraclelinux10", L, "oraclelinux", "10" },
    { "almalinux", L, "almalinux", NULL },
    { "rockylinux", L, "rocky", NULL },
    { "fedora", L, "fedora", NULL },
    { "ubuntu", L, "ubuntu", NULL },
    { "debian4", L, "debian", "4" },
    { "debian5", L, "debian", "5" },
    { "debian6", L, "debian", "6" },
    { "debian7", L, "debian", "7" },
    { "debian8", L, "debian", "8" },
    { "debian9", L, "debian", "9" },
    { "debian10", L, "debian", "10" },
    { "debian11", L, "debian", "11" },
    { "debian12", L, "debian", "12" },
    { "debian13", L, "debian", "13" },
    { "sles", L, "sles", NULL },
    { "sles10", L, "sles", "10" },
    { "sles11", L, "sles", "11" },
    { "sles12", L, "sles", "12" },
    { "sles15", L, "sles", "15" },
    { "sles16", L, "sles", "16" },
    { "suse", L, "suse", NULL },
    { "opensuse", L, "opensuse", NULL },
    { "mandrake", L, "mandriva", NULL },
    { "mandriva", L, "mandriva", NULL },
    { "asianux3", L, "asianux", "3" },
    { "asianux4", L, "asianux", "4" },
    { "asianux5", L, "asianux", "5" },
    { "asianux7", L, "asianux", "7" },
    { "asianux8", L, "asianux", "8" },
    { "asianux9", L, "asianux", "9" },
    { "amazonlinux2", L, "amazonlinux", "2" },
    { "amazonlinux3", L, "amazonlinux", "2023" },
    { "coreos", L, "coreos", NULL },
    { "vmware-photon", L, "photon", NULL },
    { "turbolinux", L, "turbolinux", NULL },
    { "nld9", L, "nld", "9" },
    { "oes", L, "oes", NULL },
    { "sjds", L, "sjds", NULL },
    { "crxpod1", L, NULL, NULL },
    { "other24xlinux", L, NULL, NULL },
    { "other26xlinux", L, NULL, NULL },
    { "other3xlinux", L, NULL, NULL },
    { "other4xlinux", L, NULL, NULL },
    { "other5xlinux", L, NULL, NULL },
    { "other6xlinux", L, NULL, NULL },
    { "other7xlinux", L, NULL, NULL },
    { "otherlinux", L, NULL, NULL },
    { "genericlinux", L, NULL, NULL },
    /* Others */
    { "freebsd", O, "freebsd", NULL },
    { "freebsd11", O, "freebsd", "11" },
    { "freebsd12", O, "freebsd", "12" },
    { "freebsd13", O, "freebsd", "13" },
    { "freebsd14", O, "freebsd", "14" },
    { "freebsd15", O, "freebsd", "15" },
    { "solaris10", O, "solaris", "10" },
    { "solaris11", O, "solaris", "11" },
    { "netware5", O, "netware", "5" },
    { "netware6", O, "netware", "6" },
    { "os2", O, "os2", NULL },
    { "dos", O, "dos", NULL },
    { "darwin", O, "macos", NULL },
    { "vmkernel", O, "esxi", NULL },
    { "vmkernel5", O, "esxi", "5" },
    { "vmkernel6", O, "esxi", "6" },
    { "vmkernel65", O, "esxi", "6.5" },
    { "vmkernel7", O, "esxi", "7" },
    { "vmkernel8", O, "esxi", "8" },
    /* "other" / "other-64": an OS VMware does not know; nothing known. */
    { "other", VMC_OS_FAMILY_UNKNOWN, NULL, NULL },
};

#undef W
#undef L
#undef O

#define NR_GUESTS (sizeof vmx_guests / sizeof vmx_guests[0])

/* Split ID into its lower-case base (into BASE, LEN bytes) and arch.
 * Accepts "rhel9-64", "arm-rhel9-64", "rhel9_64Guest", "rhel9Guest",
 * "arm-rhel9_64Guest".  Returns false if ID does not fit BASE.
 */
static bool
vmx_guest_split(const char *id, char *base, size_t len, const char **arch)
{
    size_t n, i;
    bool arm = false, is64 = false;

    if (strncasecmp(id, "arm-", 4) == 0) {
        arm = true;
        id += 4;
    }
    n = strlen(id);
    if (n > 5 && strcasecmp(id + n - 5, "Guest") == 0)
        n -= 5;
    if (n > 3 && (strncmp(id + n - 3, "-64", 3) == 0 ||
                  strncmp(id + n - 3, "_64", 3) == 0)) {
        is64 = true;
        n -= 3;
    }
    if (n == 0 || n >= len)
        return false;
    for (i = 0; i < n; i++)
        base[i] = (char) tolower((unsigned char) id[i]);
    base[n] = '\0';
    *arch = arm ? "aarch64" : is64 ? "x86_64" : "i686";
    return true;
}

const struct vmx_guest *
vmx_guest_lookup(const char *id, const char **arch)
{
    char base[64];
    size_t i;

    *arch = NULL;
    if (!vmx_guest_split(id, base, sizeof base, arch))
        return NULL;
    for (i = 0; i < NR_GUESTS; i++)
        if (strcmp(vmx_guests[i].id, base) == 0)
            return &vmx_guests[i];
    return NULL;
}

/* The table's id for FAMILY / DISTRO / VERSION, or NULL. */
static const char *
vmx_guest_find(enum vmc_os_family family, const char *distro,
               const char *version)
{
    size_t i;

    for (i = 0; i < NR_GUESTS; i++) {
        const struct vmx_guest *g = &vmx_guests[i];

        if (g->family != family || g->distro == NULL || distro == NULL ||
            strcasecmp(g->distro, distro) != 0)
            continue;
        if (version == NULL ? g->version == NULL
            : g->version && strcasecmp(g->version, version) == 0)
            return g->id;
    }
    return NULL;
}

/* VERSION's major part ("9.2" -> "9") into BUF. */
static const char *
vmx_major(const char *version, char *buf, size_t len)
{
    size_t n;

    if (version == NULL)
        return NULL;
    n = strcspn(version, ".");
    if (n == 0 || n >= len)
        return NULL;
    memcpy(buf, version, n);
    buf[n] = '\0';
    return buf;
}

/* Ids whose newer versions VMware has not named yet: the newest known. */
static const char *
vmx_guest_newest(enum vmc_os_family family, const char *distro)
{
    static const struct {
        const char *distro;
        const char *id;
    } newest[] = {
        { "rhel", "rhel9" }, { "centos", "centos9" },
        { "oraclelinux", "oraclelinux9" }, { "debian", "debian12" },
        { "sles", "sles15" }, { "ubuntu", "ubuntu" },
        { "fedora", "fedora" }, { "almalinux", "almalinux" },
        { "rocky", "rockylinux" }, { "opensuse", "opensuse" },
        { "freebsd", "freebsd14" }, { "windows", "windows9" },
    };
    size_t i;

    if (distro == NULL)
        goto generic;
    for (i = 0; i < sizeof newest / sizeof newest[0]; i++)
        if (strcasecmp(newest[i].distro, distro) == 0)
            return newest[i].id;
 generic:
    if (family == VMC_OS_FAMILY_LINUX)
        return "other5xlinux";
    if (family == VMC_OS_FAMILY_WINDOWS)
        return "windows9";
    return NULL;
}

const char *
vmx_guest_for_vm(const struct vmc_vm *vm, char *buf, size_t len,
                 bool *exact)
{
    const struct vmx_guest *g = NULL;
    const char *arch = NULL, *id = NULL;
    char major[16];
    bool is64, arm;

    *exact = true;
    if (vm->os_id && (g = vmx_guest_lookup(vm->os_id, &arch)) != NULL)
        id = g->id;
    else {
        arch = vm->os_arch;
        id = vmx_guest_find(vm->os_family, vm->os_distro, vm->os_version);
        if (id == NULL)
            id = vmx_guest_find(vm->os_family, vm->os_distro,
                                vmx_major(vm->os_version, major,
                                          sizeof major));
        if (id == NULL)
            id = vmx_guest_find(vm->os_family, vm->os_distro, NULL);
        if (id == NULL) {
            *exact = false;
            id = vmx_guest_newest(vm->os_family, vm->os_distro);
        }
        if (id == NULL)
            id = "other";
    }
    arm = arch && strcmp(arch, "aarch64") == 0;
    /* Unknown arch: 64-bit, what every current guest is. */
    is64 = arch == NULL || strcmp(arch, "x86_64") == 0 || arm;
    /* Windows 11 and the newer servers exist only in 64-bit. */
    snprintf(buf, len, "%s%s%s", arm ? "arm-" : "", id, is64 ? "-64" : "");
    return buf;
}
