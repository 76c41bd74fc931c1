/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Can KVM run guests on this host?  See kvm-host.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/kvm.h>
#endif

#include "kvm-host.h"

#ifdef __linux__

/* The x86-64-v2 features current guest kernels need (RHEL 9 and its
 * kin refuse to boot without them), in CPUID leaf 1 ECX: SSE3 (0),
 * SSSE3 (9), CX16 (13), SSE4.1 (19), SSE4.2 (20), POPCNT (23).
 */
#define KVM_X86_64_V2_ECX ((1u << 0) | (1u << 9) | (1u << 13) | \
                           (1u << 19) | (1u << 20) | (1u << 23))
#define KVM_CPUID_MAX_ENTRIES 256

/* 1 if KVM offers guests the x86-64-v2 features, 0 if not, -1 if it
 * cannot say (not x86, or the ioctl failed).
 */
static int
has_x86_64_v2(int fd)
{
#if defined(__x86_64__) || defined(__i386__)
    struct kvm_cpuid2 *c;
    uint32_t i;
    int ret = -1;

    c = calloc(1, sizeof *c +
               KVM_CPUID_MAX_ENTRIES * sizeof (struct kvm_cpuid_entry2));
    if (c == NULL)
        return -1;
    c->nent = KVM_CPUID_MAX_ENTRIES;
    if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
        for (i = 0; i < c->nent; i++)
            if (c->entries[i].function == 1) {
                ret = (c->entries[i].ecx & KVM_X86_64_V2_ECX) ==
                    KVM_X86_64_V2_ECX;
                break;
            }
    free(c);
    return ret;
#else
    (void) fd;
    return -1;
#endif
}

bool
vmc_kvm_host_usable(const char **why)
{
    int fd, vm;

    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd == -1) {
        *why = errno == ENOENT ? "/dev/kvm does not exist" :
            "/dev/kvm cannot be opened";
        return false;
    }
    if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        close(fd);
        *why = "/dev/kvm speaks an unexpected KVM API version";
        return false;
    }
    vm = ioctl(fd, KVM_CREATE_VM, 0);
    if (vm == -1) {
        close(fd);
        *why = "/dev/kvm refuses to create a virtual machine";
        return false;
    }
    close(vm);
    if (has_x86_64_v2(fd) == 0) {
        close(fd);
        *why = "KVM here does not offer guests the x86-64-v2 CPU features "
            "(SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CX16) that current "
            "guest kernels need";
        return false;
    }
    close(fd);
    *why = NULL;
    return true;
}

#else /* !__linux__ */

bool
vmc_kvm_host_usable(const char **why)
{
    *why = "KVM exists on Linux only";
    return false;
}

#endif
