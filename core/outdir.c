/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output directory policy: a conversion writes into a temporary
 * directory ".NAME.vmconv-XXXXXX" beside OUTDIR (same filesystem, so
 * the final rename is atomic) and renames it into place on success;
 * on failure or interruption the temporary directory is removed.
 *
 * Each temporary directory holds a marker file naming the process
 * that made it (host, pid, process start time).  A process killed
 * outright (SIGKILL, a crash) leaves its directory behind; the next
 * vmc_outdir_create beside it removes every such directory whose
 * process no longer runs.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmconv/convert.h>

#include "internal.h"

#define OUTDIR_TAG ".vmconv-"
#define OUTDIR_SUFFIX_LEN 6
#define OUTDIR_MARKER ".vmconv-tmpdir"
#define OUTDIR_MARKER_MAX 512
/* A temporary directory without a marker (its process died between
 * mkdir and writing the marker) is removed once it is this old and
 * empty.
 */
#define OUTDIR_UNMARKED_AGE (10 * 60)

struct vmc_outdir {
    struct vmc_handle *h;
    char *final;                 /* OUTDIR (resolved if a symlink) */
    char *tmp;                   /* the temporary directory */
    bool existed;                /* OUTDIR was an empty directory */
    mode_t mode;                 /* its permission bits then */
    bool committed;
};

/* Split PATH into its parent directory and last component (both
 * malloc'd): "a/b/" -> "a", "b"; "b" -> ".", "b"; "/b" -> "/", "b".
 */
static int
outdir_split(const char *path, char **parent, char **base)
{
    char *p = strdup(path), *slash, *b;

    if (p == NULL)
        return -1;
    for (slash = p + strlen(p) - 1; slash > p && *slash == '/'; slash--)
        *slash = '\0';
    slash = strrchr(p, '/');
    if (slash == NULL) {
        b = strdup(p);
        strcpy(p, ".");
    } else {
        b = strdup(slash + 1);
        if (slash == p)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    if (b == NULL) {
        free(p);
        return -1;
    }
    *parent = p;
    *base = b;
    return 0;
}

static int
outdir_is_empty(struct vmc_handle *h, const char *outdir)
{
    DIR *d = opendir(outdir);
    struct dirent *e;
    int r = 1;

    if (d == NULL) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: %m", outdir);
        return -1;
    }
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            r = 0;
            break;
        }
    closedir(d);
    return r;
}

int
vmc_outdir_check(struct vmc_handle *h, const char *outdir)
{
    CLEANUP_FREE char *parent = NULL;
    CLEANUP_FREE char *base = NULL;
    struct stat st;
    int r;

    if (outdir == NULL || *outdir == '\0') {
        vmc_error_kind(h, VMC_ERR_USAGE, "the output directory name is "
                       "empty");
        return -1;
    }
    if (stat(outdir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            vmc_error_kind(h, VMC_ERR_USAGE, "%s: exists and is not a "
                           "directory", outdir);
            return -1;
        }
        r = outdir_is_empty(h, outdir);
        if (r == 0)
            vmc_error_kind(h, VMC_ERR_USAGE, "%s: the directory is not "
                           "empty", outdir);
        return r == 1 ? 0 : -1;
    }
    if (errno != ENOENT) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: %m", outdir);
        return -1;
    }
    if (outdir_split(outdir, &parent, &base) == -1) {
        vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", outdir);
        return -1;
    }
    if (stat(parent, &st) == -1) {
        vmc_error_kind(h, errno == ENOENT ? VMC_ERR_USAGE
                                          : vmc_errno_kind(errno),
                       "%s: %s: %m", outdir, parent);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: %s is not a directory",
                       outdir, parent);
        return -1;
    }
    return 0;
}

/* ---- Markers and stale directories -------------------------------- */

/* The start time of process PID in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 if unknown.
 */
static unsigned long long
outdir_proc_start(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long start = 0;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and ')': skip to the
     * last ')'; field 3 follows.
     */
    p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    for (field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (p)
        start = strtoull(p + 1, NULL, 10);
    return start;
}

static int
outdir_write_marker(struct vmc_handle *h, const char *dir)
{
    CLEANUP_FREE char *path = NULL;
    CLEANUP_FREE char *text = NULL;
    char host[256] = "";
    CLEANUP_CLOSE int fd = -1;
    int len;

    gethostname(host, sizeof host - 1);
    len = asprintf(&text, "vmconv temporary output directory\n"
                   "host %s\npid %d\nstart %llu\n", host, (int) getpid(),
                   outdir_proc_start(getpid()));
    if (len < 0 || asprintf(&path, "%s/%s", dir, OUTDIR_MARKER) == -1) {
        text = path = NULL;
        vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", dir);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0644);
    if (fd == -1) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: %m", path);
        return -1;
    }
    if (vmc_pwrite_full(h, path, fd, text, (size_t) len, 0) == -1)
        return -1;
    return 0;
}

/* Is the temporary directory DIR (an fd of it) one whose process no
 * longer runs?  Returns 1 (stale), 0 (alive or not ours to judge).
 */
static int
outdir_marker_stale(int dirfd)
{
    char buf[OUTDIR_MARKER_MAX + 1], host[256] = "", mhost[256];
    unsigned long long start;
    ssize_t n;
    int fd, pid;

    fd = openat(dirfd, OUTDIR_MARKER, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1)
        return -1;              /* no marker */
    n = read(fd, buf, OUTDIR_MARKER_MAX);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "vmconv temporary output directory\nhost %255s\n"
               "pid %d\nstart %llu", mhost, &pid, &start) != 3 || pid <= 0)
        return 0;               /* not understood: leave it */
    gethostname(host, sizeof host - 1);
    if (strcmp(host, mhost) != 0)
        return 0;               /* another machine's (shared storage) */
    if (kill(pid, 0) == -1 && errno == ESRCH)
        return 1;
    /* The pid runs, but is it the same process?  (pids are reused.) */
    if (start != 0) {
        unsigned long long now = outdir_proc_start(pid);

        if (now != 0 && now != start)
            return 1;
    }
    return 0;
}

static int
outdir_rm_one(const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    if (flag == FTW_DP || flag == FTW_D)
        return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
    return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* Remove DIR and everything below it, never following symbolic links
 * nor crossing into other filesystems.
 */
static int
outdir_remove_tree(const char *dir)
{
    return nftw(dir, outdir_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Is NAME of the form ".SOMETHING.vmconv-XXXXXX"? */
static bool
outdir_is_tmp_name(const char *name)
{
    size_t n = strlen(name), t = strlen(OUTDIR_TAG);

    return name[0] == '.' && n > 1 + t + OUTDIR_SUFFIX_LEN &&
           strncmp(name + n - OUTDIR_SUFFIX_LEN - t, OUTDIR_TAG, t) == 0;
}

/* Remove the stale temporary directories in PARENT. */
static void
outdir_sweep(struct vmc_handle *h, const char *parent)
{
    DIR *d = opendir(parent);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        CLEANUP_FREE char *path = NULL;
        struct stat st;
        int fd, stale;

        if (!outdir_is_tmp_name(e->d_name))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
            !S_ISDIR(st.st_mode))
            continue;           /* image temporaries are files */
        fd = openat(dirfd(d), e->d_name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd == -1)
            continue;
        stale = outdir_marker_stale(fd);
        close(fd);
        if (asprintf(&path, "%s/%s", parent, e->d_name) == -1) {
            path = NULL;
            continue;
        }
        if (stale == 1) {
            if (outdir_remove_tree(path) == 0)
                vmc_info(h, "removed %s, left by a vmconv process that "
                         "no longer runs", path);
            else
                vmc_warning(h, "%s: left by a vmconv process that no "
                            "longer runs, but could not be removed: %m",
                            path);
        } else if (stale == -1 &&
                   time(NULL) - st.st_mtime > OUTDIR_UNMARKED_AGE &&
                   rmdir(path) == 0)
            vmc_debug(h, "removed the empty unmarked %s", path);
    }
    closedir(d);
}

/* ---- Create, commit, abort ---------------------------------------- */

/* Make the directory "PARENT/.BASE.vmconv-XXXXXX" with a random
 * suffix (mode 0777 less the umask, applied by the kernel).
 */
static char *
outdir_mkdir(struct vmc_handle *h, const char *parent, const char *base)
{
    static const char chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    int tries;

    for (tries = 0; tries < 100; tries++) {
        uint8_t rnd[OUTDIR_SUFFIX_LEN];
        char suffix[OUTDIR_SUFFIX_LEN + 1];
        char *path;
        size_t i;

        vmc_random_bytes(rnd, sizeof rnd);
        for (i = 0; i < OUTDIR_SUFFIX_LEN; i++)
            suffix[i] = chars[rnd[i] % (sizeof chars - 1)];
        suffix[OUTDIR_SUFFIX_LEN] = '\0';
        if (asprintf(&path, "%s/.%s%s%s", parent, base, OUTDIR_TAG,
                     suffix) == -1) {
            vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", parent);
            return NULL;
        }
        if (mkdir(path, 0777) == 0)
            return path;
        if (errno != EEXIST) {
            vmc_error_kind(h, vmc_errno_kind(errno), "%s: making the "
                           "temporary directory %s: %m", parent, path);
            free(path);
            return NULL;
        }
        free(path);
    }
    vmc_error_kind(h, VMC_ERR_IO, "%s: no free temporary directory name",
                   parent);
    return NULL;
}

struct vmc_outdir *
vmc_outdir_create(struct vmc_handle *h, const char *outdir)
{
    CLEANUP_FREE char *parent = NULL;
    CLEANUP_FREE char *base = NULL;
    struct vmc_outdir *o;
    struct stat st;

    if (vmc_outdir_check(h, outdir) == -1)
        return NULL;
    o = calloc(1, sizeof *o);
    if (o == NULL) {
        vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", outdir);
        return NULL;
    }
    o->h = h;
    /* An existing OUTDIR that is a symbolic link: the directory it
     * leads to is the one replaced.
     */
    if (lstat(outdir, &st) == 0 && S_ISLNK(st.st_mode))
        o->final = realpath(outdir, NULL);
    else
        o->final = strdup(outdir);
    if (o->final == NULL ||
        outdir_split(o->final, &parent, &base) == -1) {
        vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", outdir);
        goto fail;
    }
    if (stat(o->final, &st) == 0) {
        o->existed = true;
        o->mode = st.st_mode & 07777;
    }
    outdir_sweep(h, parent);
    o->tmp = outdir_mkdir(h, parent, base);
    if (o->tmp == NULL)
        goto fail;
    if (outdir_write_marker(h, o->tmp) == -1) {
        outdir_remove_tree(o->tmp);
        goto fail;
    }
    vmc_debug(h, "writing %s into %s", o->final, o->tmp);
    return o;

fail:
    free(o->tmp);
    free(o->final);
    free(o);
    return NULL;
}

const char *
vmc_outdir_tmpdir(const struct vmc_outdir *o)
{
    return o->tmp;
}

int
vmc_outdir_commit(struct vmc_outdir *o)
{
    struct vmc_handle *h = o->h;
    CLEANUP_FREE char *marker = NULL;

    if (o->committed) {
        vmc_error_kind(h, VMC_ERR_USAGE, "%s: already committed",
                       o->final);
        return -1;
    }
    if (vmc_cancelled(h)) {
        vmc_error_kind(h, VMC_ERR_INTERRUPTED, "cancelled");
        return -1;
    }
    if (asprintf(&marker, "%s/%s", o->tmp, OUTDIR_MARKER) == -1) {
        marker = NULL;
        vmc_error_kind(h, VMC_ERR_INTERNAL, "%s: %m", o->final);
        return -1;
    }
    if (unlink(marker) == -1 && errno != ENOENT) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: %m", marker);
        return -1;
    }
    if (o->existed && chmod(o->tmp, o->mode) == -1) {
        vmc_error_kind(h, vmc_errno_kind(errno), "%s: %m", o->tmp);
        return -1;
    }
    if (rename(o->tmp, o->final) == -1) {
        int e = errno;

        if (e == ENOTEMPTY || e == EEXIST || e == ENOTDIR || e == EISDIR)
            vmc_error_kind(h, VMC_ERR_USAGE, "rename %s to %s: %m (%s "
                           "changed since the conversion began)", o->tmp,
                           o->final, o->final);
        else
            vmc_error_kind(h, vmc_errno_kind(e), "rename %s to %s: %m",
                           o->tmp, o->final);
        return -1;
    }
    o->committed = true;
    return 0;
}

void
vmc_outdir_abort(struct vmc_outdir *o)
{
    if (o == NULL)
        return;
    if (!o->committed && o->tmp && outdir_remove_tree(o->tmp) == -1)
        vmc_warning(o->h, "%s: removing the temporary directory: %m",
                    o->tmp);
    free(o->tmp);
    free(o->final);
    free(o);
}
