/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: the libguestfs appliance.
 *
 * libguestfs asks QEMU for KVM and falls back to TCG only when KVM is
 * missing, not when /dev/kvm exists but QEMU cannot run a guest with it
 * (a nested or restricted host: QEMU aborts setting up the vCPU).  So
 * before launching, a short probe starts the same QEMU with KVM, the
 * appliance's CPU model and the vCPU stopped (-S), and asks it to quit
 * on its monitor: QEMU has set the vCPU up by then.  If that fails,
 * the appliance runs under TCG (backend "direct", setting force_tcg);
 * on a host where KVM works it runs under KVM.  Verbose output says
 * which and why.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmconv/vmconv.h>
#include "guest.h"

#define KVM_PROBE_TIMEOUT_MS 10000

/* Run HV with KVM, stopped, and quit it.  Returns true if it exited
 * cleanly (KVM runs guests here).  *WHY says why not.
 */
static bool
appliance_kvm_probe(const char *hv, const char **why)
{
    char *argv[] = {
        (char *) hv, (char *) "-no-user-config", (char *) "-nodefaults",
        (char *) "-display", (char *) "none",
        (char *) "-machine", (char *) "accel=kvm",
        (char *) "-cpu", (char *) "max,la57=off",
        (char *) "-m", (char *) "64", (char *) "-S",
        (char *) "-monitor", (char *) "stdio", NULL,
    };
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    int fds[2], nullfd, status, i;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        *why = "/dev/kvm is missing or not usable";
        return false;
    }
    nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nullfd == -1 || pipe2(fds, O_CLOEXEC) == -1) {
        if (nullfd != -1)
            close(nullfd);
        *why = "the KVM probe could not be started";
        return false;
    }
    pid = fork();
    if (pid == 0) {
        dup2(fds[0], 0);
        dup2(nullfd, 1);
        dup2(nullfd, 2);
        execv(hv, argv);
        _exit(127);
    }
    close(fds[0]);
    close(nullfd);
    if (pid == -1) {
        close(fds[1]);
        *why = "the KVM probe could not be started";
        return false;
    }
    /* QEMU reads the monitor once the machine (and its vCPU) is set up. */
    if (write(fds[1], "quit\n", 5) != 5) {
        /* It died already: the wait below says so. */
    }
    close(fds[1]);
    for (i = 0; i < KVM_PROBE_TIMEOUT_MS / 20; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                *why = NULL;
                return true;
            }
            *why = WIFEXITED(status) && WEXITSTATUS(status) == 127
                ? "QEMU could not be run"
                : "QEMU cannot run a guest with KVM here";
            return false;
        }
        if (r == -1 && errno != EINTR)
            break;
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    *why = "QEMU with KVM did not answer in time";
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

guestfs_h *
vmc_guest_launch(struct vmc_handle *h, const char *const *socks, size_t n,
                 const char **accel)
{
    guestfs_h *g;
    char *hv = NULL;
    const char *why = NULL, *step = "parse the environment";
    char server[4200];
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
    if (hv && appliance_kvm_probe(hv, &why)) {
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
    }
    free(hv);
    hv = NULL;
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
