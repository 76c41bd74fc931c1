/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion: each source disk served by nbdkit, our plugin
 * (nbdkit-vmconv-plugin, read-only, every format formats/ reads) under
 * nbdkit's cow filter, which keeps any write in a temporary overlay, on
 * a Unix socket in a private directory.  nbdkit runs with
 * --exit-with-parent, so it goes when vmconv dies; otherwise it is
 * stopped and its directory removed by vmc_guest_nbd_stop.
 *
 * Which nbdkit: $VMCONV_NBDKIT, else "nbdkit" in PATH.  Which plugin:
 * $VMCONV_NBDKIT_PLUGIN (the test suite points it into the build
 * tree), else the installed one (NBDKIT_VMCONV_PLUGIN, set by the
 * build), else "vmconv" for nbdkit to find in its plugin directory.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmconv/image.h>

#include "internal.h"
#include "util.h"
#include "guest.h"

/* How long nbdkit may take to open the image and listen. */
#define NBD_START_TIMEOUT_MS 60000

static const char *
nbd_plugin(void)
{
    const char *e = getenv("VMCONV_NBDKIT_PLUGIN");

    if (e && *e)
        return e;
#ifdef NBDKIT_VMCONV_PLUGIN
    if (access(NBDKIT_VMCONV_PLUGIN, R_OK) == 0)
        return NBDKIT_VMCONV_PLUGIN;
#endif
    return "vmconv";
}

static const char *
nbd_program(void)
{
    const char *e = getenv("VMCONV_NBDKIT");

    return e && *e ? e : "nbdkit";
}

/* The first line of nbdkit's messages in DIR, for an error (static
 * buffer BUF).
 */
static const char *
nbd_errors(const char *dir, char *buf, size_t len)
{
    char path[4096];
    FILE *fp;
    char *nl;

    snprintf(path, sizeof path, "%s/nbdkit.err", dir);
    buf[0] = '\0';
    fp = fopen(path, "r");
    if (fp == NULL)
        return buf;
    if (fgets(buf, (int) len, fp) == NULL)
        buf[0] = '\0';
    fclose(fp);
    nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return buf;
}

void
vmc_guest_nbd_stop(struct guest_nbd *n)
{
    char path[4096];

    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        while (waitpid(n->pid, NULL, 0) == -1 && errno == EINTR)
            ;
        n->pid = 0;
    }
    if (n->dir) {
        static const char *const files[] = {
            "nbd.sock", "nbdkit.pid", "nbdkit.err",
        };
        size_t i;

        for (i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", n->dir, files[i]);
            unlink(path);
        }
        rmdir(n->dir);
    }
    free(n->dir);
    free(n->sock);
    n->dir = n->sock = NULL;
}

/* Is the PID file in N's directory written (nbdkit is serving)? */
static bool
nbd_ready(const struct guest_nbd *n)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof path, "%s/nbdkit.pid", n->dir);
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* Wait until N's nbdkit serves, exits or times out.  Returns 0, or -1
 * with an error set.
 */
static int
nbd_wait(struct vmc_handle *h, struct guest_nbd *n, const char *path)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    char msg[512];
    int i, status;

    for (i = 0; i < NBD_START_TIMEOUT_MS / 20; i++) {
        if (nbd_ready(n))
            return 0;
        if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
            n->pid = 0;
            vmc_error(h, "%s: nbdkit could not serve it%s%s", path,
                      nbd_errors(n->dir, msg, sizeof msg)[0] ? ": " : "",
                      msg);
            return -1;
        }
        if (vmc_cancelled(h)) {
            vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    vmc_error(h, "%s: nbdkit was not ready after %d s", path,
              NBD_START_TIMEOUT_MS / 1000);
    return -1;
}

int
vmc_guest_nbd_start(struct vmc_handle *h, const char *path,
                    const char *format, unsigned image_flags,
                    struct guest_nbd *n)
{
    const char *tmp = getenv("TMPDIR");
    char *argv[20];
    char *file_arg = NULL, *format_arg = NULL, *pidfile = NULL,
        *errfile = NULL, *offset_arg = NULL, *length_arg = NULL;
    const char *file = path;
    uint64_t offset, length;
    int range;
    size_t a = 0;
    int ret = -1, errfd = -1, nullfd = -1;
    pid_t pid;

    memset(n, 0, sizeof *n);
    /* A disk inside an OVA, read in place: "range:OFF:LEN:FILE". */
    range = vmc_range_name_parse(h, path, &file, &offset, &length);
    if (range == -1)
        return -1;
    if (asprintf(&n->dir, "%s/vmconv-nbd.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp") == -1) {
        n->dir = NULL;
        vmc_error(h, "%m");
        return -1;
    }
    if (mkdtemp(n->dir) == NULL) {
        vmc_error(h, "mkdtemp: %s: %m", n->dir);
        free(n->dir);
        n->dir = NULL;
        return -1;
    }
    if (asprintf(&n->sock, "%s/nbd.sock", n->dir) == -1 ||
        asprintf(&pidfile, "%s/nbdkit.pid", n->dir) == -1 ||
        asprintf(&errfile, "%s/nbdkit.err", n->dir) == -1 ||
        asprintf(&file_arg, "file=%s", file) == -1 ||
        (range == 1 &&
         (asprintf(&offset_arg, "offset=%" PRIu64, offset) == -1 ||
          asprintf(&length_arg, "length=%" PRIu64, length) == -1)) ||
        (format && asprintf(&format_arg, "format=%s", format) == -1)) {
        vmc_error(h, "%m");
        goto out;
    }
    argv[a++] = (char *) nbd_program();
    argv[a++] = (char *) "-f";
    argv[a++] = (char *) "--exit-with-parent";
    argv[a++] = (char *) "-U";
    argv[a++] = n->sock;
    argv[a++] = (char *) "-P";
    argv[a++] = pidfile;
    argv[a++] = (char *) "--filter=cow";
    argv[a++] = (char *) nbd_plugin();
    argv[a++] = file_arg;
    if (format_arg)
        argv[a++] = format_arg;
    if (offset_arg) {
        argv[a++] = offset_arg;
        argv[a++] = length_arg;
    }
    if (image_flags & VMC_IMAGE_ALLOW_OUTSIDE)
        argv[a++] = (char *) "allow-outside-paths=true";
    if (image_flags & VMC_IMAGE_IGNORE_PARENT_ID)
        argv[a++] = (char *) "ignore-parent-id=true";
    argv[a] = NULL;

    errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (errfd == -1 || nullfd == -1) {
        vmc_error(h, "open: %s: %m", errfd == -1 ? errfile : "/dev/null");
        goto out;
    }
    vmc_debug(h, "guest: %s %s --filter=cow %s %s", argv[0], n->sock,
              argv[8], file_arg);
    pid = fork();
    if (pid == -1) {
        vmc_error(h, "fork: %m");
        goto out;
    }
    if (pid == 0) {
        dup2(nullfd, 0);
        dup2(nullfd, 1);
        dup2(errfd, 2);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    n->pid = pid;
    ret = nbd_wait(h, n, path);
 out:
    if (errfd != -1)
        close(errfd);
    if (nullfd != -1)
        close(nullfd);
    free(file_arg);
    free(format_arg);
    free(offset_arg);
    free(length_arg);
    free(pidfile);
    free(errfile);
    if (ret == -1)
        vmc_guest_nbd_stop(n);
    return ret;
}
