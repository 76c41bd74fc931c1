/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: the libguestfs appliance.
 *
 * libguestfs asks QEMU for KVM and falls back to TCG only when KVM is
 * missing, not when /dev/kvm exists but QEMU cannot run a guest with it
 * (a nested or restricted host: QEMU aborts setting up the vCPU, or the
 * vCPU never runs an instruction).  So before launching, the cheap
 * checks of the kvm plugin's (common/kvm-host.c: /dev/kvm creates a VM
 * and offers the CPU features guest kernels need), then a short probe
 * that starts the same QEMU with KVM and the appliance's CPU model and
 * waits for the firmware's banner on the serial port: only guest code
 * that ran prints it.  If it does not come, the appliance runs under
 * TCG (backend "direct", setting force_tcg); on a host where KVM works
 * it runs under KVM.  Verbose output says which and why.  A user who
 * set force_tcg in LIBGUESTFS_BACKEND_SETTINGS gets TCG without a
 * probe.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmconv/vmconv.h>
#include "guest.h"
#include "kvm-host.h"

/* QEMU's start-up on a busy host, then the firmware's first words:
 * SeaBIOS prints its banner within milliseconds of the vCPU's start.
 */
#define KVM_PROBE_TIMEOUT_MS 4000
#define KVM_PROBE_BANNER "SeaBIOS"

#define APPLIANCE_MAX_VCPUS 4

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run HV with KVM and wait for the firmware's banner on its serial
 * port.  Returns true if it came (KVM runs guest code here).  *WHY says
 * why not.
 */
static bool
appliance_kvm_probe(const char *hv, const char **why)
{
    char *argv[] = {
        (char *) hv, (char *) "-no-user-config", (char *) "-nodefaults",
        (char *) "-display", (char *) "none",
        (char *) "-machine", (char *) "accel=kvm",
        (char *) "-cpu", (char *) "max,la57=off",
        (char *) "-m", (char *) "64", (char *) "-no-reboot",
        (char *) "-serial", (char *) "stdio", NULL,
    };
    char buf[4096];
    size_t len = 0;
    int fds[2], nullfd, status;
    int64_t deadline;
    bool ok = false, exited = false;
    pid_t pid;

    if (!vmc_kvm_host_usable(why))
        return false;
    nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nullfd == -1 || pipe2(fds, O_CLOEXEC) == -1) {
        if (nullfd != -1)
            close(nullfd);
        *why = "the KVM probe could not be started";
        return false;
    }
    pid = fork();
    if (pid == 0) {
        dup2(nullfd, 0);
        dup2(fds[1], 1);
        dup2(nullfd, 2);
        execv(hv, argv);
        _exit(127);
    }
    close(fds[1]);
    close(nullfd);
    if (pid == -1) {
        close(fds[0]);
        *why = "the KVM probe could not be started";
        return false;
    }
    *why = "QEMU with KVM ran no guest code in time (its vCPU stalls)";
    deadline = now_ms() + KVM_PROBE_TIMEOUT_MS;
    for (;;) {
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        int64_t left = deadline - now_ms();
        ssize_t r;

        if (left <= 0)
            break;
        r = poll(&pfd, 1, (int) left);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        r = read(fds[0], buf + len, sizeof buf - 1 - len);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* QEMU closed its serial port: it exited (an abort). */
            exited = true;
            break;
        }
        len += (size_t) r;
        buf[len] = '\0';
        if (strstr(buf, KVM_PROBE_BANNER)) {
            ok = true;
            break;
        }
        if (len == sizeof buf - 1) {
            /* Keep the tail: the banner may straddle the boundary. */
            memmove(buf, buf + len - 64, 64);
            len = 64;
        }
    }
    close(fds[0]);
    if (!exited || ok)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
        ;
    if (ok) {
        *why = NULL;
        return true;
    }
    if (exited)
        *why = WIFEXITED(status) && WEXITSTATUS(status) == 127
            ? "QEMU could not be run"
            : "QEMU cannot run a guest with KVM here";
    return false;
}

/* libguestfs's messages go to vmc_debug (verbose mode), not stderr. */
static void
appliance_log(guestfs_h *g, void *opaque, uint64_t event, int eh,
              int flags, const char *buf, size_t len,
              const uint64_t *array, size_t alen)
{
    struct vmc_handle *h = opaque;

    (void) g, (void) event, (void) eh, (void) flags, (void) array;
    (void) alen;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len > 0)
        vmc_debug(h, "libguestfs: %.*s", (int) len, buf);
}

/* Under TCG, turn off address space randomisation inside the
 * appliance (kernel parameter norandmaps).  QEMU's TCG (7.2, Debian
 * 12's) finds translated code by its virtual address as well as its
 * physical one: with every process's shared libraries at new random
 * addresses, each short-lived process (a rebuild of the initramfs runs
 * about a thousand) pays for translating ld.so and libc again.  With
 * fixed addresses they are translated once.  Measured on a Debian 12
 * guest: update-initramfs 62 s -> 26 s.  The appliance is a throwaway
 * VM that only vmconv talks to; QEMU remains the boundary between it
 * and the host.  Under KVM nothing changes.  A user's LIBGUESTFS_APPEND
 * is kept.
 */
static int
appliance_tcg_tune(struct vmc_handle *h, guestfs_h *g)
{
    const char *old = guestfs_get_append(g);
    char *append = NULL;
    int r;

    if (old && strstr(old, "norandmaps"))
        return 0;
    if (asprintf(&append, "%s%snorandmaps", old ? old : "",
                 old && *old ? " " : "") == -1) {
        vmc_error(h, "out of memory");
        return -1;
    }
    r = guestfs_set_append(g, append);
    if (r == 0)
        vmc_debug(h, "guest: appliance kernel command line: %s (TCG "
                  "translates shared libraries once)", append);
    free(append);
    return r;
}

guestfs_h *
vmc_guest_launch(struct vmc_handle *h, const char *const *socks, size_t n,
                 const char **accel)
{
    guestfs_h *g;
    char *hv = NULL, *forced;
    const char *why = NULL, *step = "parse the environment";
    char server[4200];
    long ncpu;
    size_t i;

    g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
    if (g == NULL) {
        vmc_error(h, "libguestfs: cannot create a handle: %m");
        return NULL;
    }
    guestfs_set_error_handler(g, NULL, NULL);
    if (guestfs_parse_environment(g) == -1)
        goto err;
    if (vmc_get_verbose(h)) {
        guestfs_set_verbose(g, 1);
        guestfs_set_event_callback(g, appliance_log,
                                   GUESTFS_EVENT_APPLIANCE |
                                   GUESTFS_EVENT_LIBRARY |
                                   GUESTFS_EVENT_WARNING, 0, h);
    }
    hv = guestfs_get_hv(g);
    forced = guestfs_get_backend_setting(g, "force_tcg");
    if (forced) {
        why = "force_tcg is set in LIBGUESTFS_BACKEND_SETTINGS";
        free(forced);
        forced = NULL;
    }
    if (why == NULL && hv && appliance_kvm_probe(hv, &why)) {
        *accel = "kvm";
        vmc_debug(h, "guest: the appliance runs with KVM (%s runs a guest "
                  "with KVM here)", hv);
    }
    else {
        *accel = "tcg";
        vmc_debug(h, "guest: the appliance runs under TCG, without KVM: %s",
                  why ? why : "QEMU was not found");
        step = "set backend direct, force_tcg";
        if (guestfs_set_backend(g, "direct") == -1 ||
            guestfs_set_backend_setting(g, "force_tcg", "1") == -1)
            goto err;
        step = "append norandmaps to the appliance's command line";
        if (appliance_tcg_tune(h, g) == -1)
            goto err;
    }
    free(hv);
    hv = NULL;
    /* The guest's own tools run in the appliance (an initramfs rebuild
     * compresses with several threads, and its pipelines overlap):
     * up to APPLIANCE_MAX_VCPUS vCPUs, never more than the host has.
     */
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > APPLIANCE_MAX_VCPUS)
        ncpu = APPLIANCE_MAX_VCPUS;
    step = "set the appliance's vCPUs";
    if (ncpu > 1 && guestfs_set_smp(g, (int) ncpu) == -1)
        goto err;
    for (i = 0; i < n; i++) {
        const char *servers[] = { server, NULL };

        step = "add an NBD drive";
        snprintf(server, sizeof server, "unix:%s", socks[i]);
        if (guestfs_add_drive_opts(g, "",
                                   GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                   GUESTFS_ADD_DRIVE_OPTS_PROTOCOL, "nbd",
                                   GUESTFS_ADD_DRIVE_OPTS_SERVER, servers,
                                   -1) == -1)
            goto err;
    }
    vmc_debug(h, "guest: launching the libguestfs appliance (%zu disk%s)",
              n, n == 1 ? "" : "s");
    step = "launch";
    if (guestfs_launch(g) == -1)
        goto err;
    return g;
 err:
    vmc_error(h, "libguestfs: %s: %s", step, guestfs_last_error(g)
              ? guestfs_last_error(g) : "failed");
    free(hv);
    guestfs_close(g);
    return NULL;
}
