/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fuzz-formats: deterministic mutation fuzzing of every format
 * driver through the public image API.
 *
 *   test-fuzz-formats SEEDDIR SCRATCHDIR FAILDIR
 *       Fuzz every seed listed in SEEDDIR/seeds.list.  Each line is
 *       "NAME FORMAT OPEN MUTATE": the files of the seed are in
 *       SEEDDIR/NAME/, OPEN is the file given to vmc_image_open, MUTATE
 *       the file that is mutated (the others, such as VMDK extents and
 *       backing files, stay as they are beside it).  Mutants are made in
 *       SCRATCHDIR; one that fails is saved under FAILDIR/NAME-ITER/.
 *   test-fuzz-formats --one FILE [FORMAT]
 *       Run the same calls on one file (replay a saved mutant).
 *   test-fuzz-formats --make-raw FILE SIZE
 *       Write the deterministic guest data the seed images are made of.
 *
 * Each mutant is opened by probing and with the seed's format, its
 * block status is walked, DATA runs and a few random ranges are read
 * (within a budget), then info JSON and check run and it is closed.
 * Any return code is fine; a crash, a hang (FUZZ_TIMEOUT seconds per
 * mutant), a single allocation above FUZZ_MAX_ALLOC, running out of the
 * address space limit, or a file descriptor left open fails the test
 * with the mutant's seed, iteration and mutations printed.
 *
 * Environment: FUZZ_ITERATIONS (mutants per seed, default 250),
 * FUZZ_SEED (default 1), FUZZ_TIMEOUT (default 5), FUZZ_ONLY=NAME or
 * NAME:ITER (one seed or one mutant), FUZZ_FORMATS=qcow2,vpc (only
 * seeds of these formats), FUZZ_VERBOSE=1 (print every mutant),
 * FUZZ_STRICT=1 (a failure without an error message fails the test),
 * FUZZ_THREADS=N (threads reading each image at once, default 2),
 * FUZZ_START=N (begin at iteration N, to go on past a failure),
 * FUZZ_SAVE=1 (save every mutant in FAILDIR, with FUZZ_ONLY), and in
 * AddressSanitizer builds FUZZ_LEAK_CHECK=1 (a leak after any mutant
 * fails the test; use UBSAN_OPTIONS=abort_on_error=1 too, so undefined
 * behaviour reports name the mutant).
 *
 * The mutants of a seed depend only on FUZZ_SEED, the iteration and the
 * seed's bytes.  Seeds made afresh differ in their UUIDs and
 * timestamps, so FUZZ_ONLY=NAME:ITER remakes a mutant exactly only from
 * the same seed directory (fuzz-formats.sh FUZZ_PREPARE_ONLY=DIR keeps
 * one); the files saved in FAILDIR are the exact reproducer.
 *
 * Exit: 0 pass, 1 failure, 77 no seeds, 99 usage or setup error.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmconv/image.h>

#include "internal.h"
#include "vpc-internal.h"

/* Sanitizers bring their own allocator and signal handlers. */
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(FUZZ_ASAN) || defined(__SANITIZE_THREAD__)
#define FUZZ_SANITIZER 1
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define FUZZ_DEFAULT_ITERATIONS 250
#define FUZZ_DEFAULT_TIMEOUT 5
#define FUZZ_ADDRESS_LIMIT (2ull << 30)     /* RLIMIT_AS */
#define FUZZ_DEFAULT_MAX_ALLOC (1ull << 30) /* one allocation */
#define FUZZ_READ_BUDGET (1u << 20)         /* bytes read per image */
#define FUZZ_READ_CHUNK (256u << 10)
#define FUZZ_MAX_EXTENTS 8192               /* block status calls */
#define FUZZ_MAX_THREADS 8
#define FUZZ_DEFAULT_THREADS 2
#define FUZZ_THREAD_READS 8                 /* per thread and image */
#define FUZZ_THREAD_READ_MAX (64u << 10)
#define FUZZ_MAX_MUTATIONS 8
#define FUZZ_MAX_DIRTY 64
#define FUZZ_MAX_HOT 16384                  /* pointer-like words kept */
#define FUZZ_MAX_FILES 16
#define FUZZ_MAX_STRINGS 256                /* strings kept per seed */
#define FUZZ_PATH 4096

/* ---- Reporting that is safe in a signal handler ------------------- */

/* What is running now, for the report a signal handler writes. */
static struct {
    volatile sig_atomic_t active;      /* inside a mutant */
    char ident[512];                   /* seed, iteration, FUZZ_SEED */
    char desc[4096];                   /* the mutations */
    const char *volatile phase;        /* the call being made */
    char setdir[FUZZ_PATH];            /* scratch directory of the set */
    char files[FUZZ_MAX_FILES][256];   /* file names in SETDIR */
    int nfiles;
    char args[600];                    /* "OPEN FORMAT" for --one */
    char failroot[FUZZ_PATH];          /* made when a mutant fails */
    char faildir[FUZZ_PATH];           /* where a failing mutant goes */
} cur;

static void
say(const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t r = write(2, s, n);

        if (r <= 0)
            return;
        s += r;
        n -= (size_t) r;
    }
}

/* Decimal of V into BUF (at least 21 bytes); returns BUF. */
static __attribute__((unused)) char *
fmt_u64(char *buf, uint64_t v)
{
    char tmp[21];
    int i = 0, j = 0;

    do {
        tmp[i++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (i > 0)
        buf[j++] = tmp[--i];
    buf[j] = '\0';
    return buf;
}

/* Concatenate A and B into DST of DSTLEN (async-signal-safe). */
static void
join2(char *dst, size_t dstlen, const char *a, const char *b)
{
    size_t n = 0;

    for (; *a && n + 1 < dstlen; a++)
        dst[n++] = *a;
    for (; *b && n + 1 < dstlen; b++)
        dst[n++] = *b;
    dst[n] = '\0';
}

static void
write_file_text(const char *path, const char *a, const char *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd == -1)
        return;
    if (write(fd, a, strlen(a)) < 0 || write(fd, b, strlen(b)) < 0) {
        /* nothing more to do in a dying process */
    }
    close(fd);
}

/* Copy the current mutant's files into cur.faildir (async-signal-safe:
 * only open/read/write/mkdir).
 */
static void
save_mutant(void)
{
    char src[FUZZ_PATH + 300], dst[FUZZ_PATH + 300], dir[FUZZ_PATH + 2];
    static char buf[65536];
    int i;

    if (cur.faildir[0] == '\0')
        return;
    if (cur.failroot[0])
        mkdir(cur.failroot, 0755);
    mkdir(cur.faildir, 0755);
    join2(dir, sizeof dir, cur.faildir, "/");
    for (i = 0; i < cur.nfiles; i++) {
        int in, out;
        ssize_t n;

        join2(src, sizeof src, cur.setdir, "/");
        join2(src, sizeof src, src, cur.files[i]);
        join2(dst, sizeof dst, dir, cur.files[i]);
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in == -1)
            continue;
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out == -1) {
            close(in);
            continue;
        }
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t) n) != n)
                break;
        close(in);
        close(out);
    }
    join2(dst, sizeof dst, dir, "ARGS");
    write_file_text(dst, cur.args, "\n");
    join2(dst, sizeof dst, dir, "README");
    write_file_text(dst, cur.ident, "\nmutations: ");
    {
        int fd = open(dst, O_WRONLY | O_APPEND | O_CLOEXEC);

        if (fd != -1) {
            if (write(fd, cur.desc, strlen(cur.desc)) < 0 ||
                write(fd, "\n", 1) < 0) {
                /* ignore */
            }
            close(fd);
        }
    }
}

/* Report a failure of the current mutant: WHY, where, what; save it. */
static void
report_failure(const char *why)
{
    say("\nFUZZ FAILURE: ");
    say(why);
    say("\n  mutant: ");
    say(cur.ident);
    say("\n  mutations: ");
    say(cur.desc[0] ? cur.desc : "(none)");
    say("\n  during: ");
    say(cur.phase ? cur.phase : "?");
    say("\n");
    if (cur.active && cur.faildir[0]) {
        save_mutant();
        say("  saved in: ");
        say(cur.faildir);
        say("/ (replay: test-fuzz-formats --one DIR/");
        say(cur.args);
        say(")\n");
    }
}

static void
on_alarm(int sig)
{
    (void) sig;
    report_failure("timeout: the mutant took longer than FUZZ_TIMEOUT "
                   "seconds (hang?)");
    _exit(1);
}

static void
on_crash(int sig)
{
    const char *what = "crash: fatal signal";

    if (sig == SIGSEGV)
        what = "crash: SIGSEGV";
    else if (sig == SIGBUS)
        what = "crash: SIGBUS";
    else if (sig == SIGFPE)
        what = "crash: SIGFPE";
    else if (sig == SIGABRT)
        what = "crash: SIGABRT";
    else if (sig == SIGILL)
        what = "crash: SIGILL";
    report_failure(what);
    signal(sig, SIG_DFL);
    raise(sig);
}

#ifdef FUZZ_SANITIZER
static void
on_sanitizer_death(void)
{
    report_failure("sanitizer report (see above)");
}
#endif

static void
install_guards(void)
{
    static char altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    struct sigaction sa;
#ifdef FUZZ_SANITIZER
    /* AddressSanitizer reports SIGSEGV, SIGBUS and SIGFPE itself. */
    int crash_sigs[] = { SIGILL, SIGABRT };
#else
    int crash_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#endif
    size_t i;

    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    for (i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++)
        sigaction(crash_sigs[i], &sa, NULL);
#ifdef FUZZ_SANITIZER
    __sanitizer_set_death_callback(on_sanitizer_death);
#else
    {
        struct rlimit rl = { FUZZ_ADDRESS_LIMIT, FUZZ_ADDRESS_LIMIT };

        if (setrlimit(RLIMIT_AS, &rl) == -1)
            perror("setrlimit RLIMIT_AS");
    }
#endif
}

/* ---- Allocation guard --------------------------------------------- */

/* Without a sanitizer, the program replaces malloc so that one huge
 * request, or any request refused under RLIMIT_AS while a mutant runs,
 * fails the test visibly instead of turning into a quiet error.  (With
 * AddressSanitizer, run with ASAN_OPTIONS=max_allocation_size_mb=...
 * and allocator_may_return_null=0 for the same effect.)
 */
#ifndef FUZZ_SANITIZER
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t max_alloc = FUZZ_DEFAULT_MAX_ALLOC;

static void
alloc_trip(uint64_t n, const char *what)
{
    static char msg[200];
    char num[24];

    join2(msg, sizeof msg, "allocation of ", fmt_u64(num, n));
    join2(msg, sizeof msg, msg, " bytes ");
    join2(msg, sizeof msg, msg, what);
    report_failure(msg);
    _exit(1);
}

static void *
alloc_check(void *p, uint64_t n)
{
    if (p == NULL && n > 0 && cur.active)
        alloc_trip(n, "failed (address space limit reached)");
    return p;
}

static uint64_t largest_alloc;      /* in the current mutant */

static bool
alloc_too_big(uint64_t n)
{
    if (cur.active && n > largest_alloc)
        largest_alloc = n;
    if (n > max_alloc && cur.active) {
        alloc_trip(n, "is above FUZZ_MAX_ALLOC");
        return true;
    }
    return false;
}

void *
malloc(size_t n)
{
    if (alloc_too_big(n))
        return NULL;
    return alloc_check(__libc_malloc(n), n);
}

void *
calloc(size_t a, size_t b)
{
    uint64_t n;

    if (__builtin_mul_overflow((uint64_t) a, (uint64_t) b, &n))
        n = UINT64_MAX;
    if (alloc_too_big(n))
        return NULL;
    return alloc_check(__libc_calloc(a, b), n);
}

void *
realloc(void *p, size_t n)
{
    if (alloc_too_big(n))
        return NULL;
    return alloc_check(__libc_realloc(p, n), n);
}

void
free(void *p)
{
    __libc_free(p);
}

void *
memalign(size_t align, size_t n)
{
    if (alloc_too_big(n))
        return NULL;
    return alloc_check(__libc_memalign(align, n), n);
}

void *
aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int
posix_memalign(void **pp, size_t align, size_t n)
{
    void *p;

    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    p = memalign(align, n);
    if (p == NULL && n > 0)
        return ENOMEM;
    *pp = p;
    return 0;
}

void *
valloc(size_t n)
{
    return memalign((size_t) sysconf(_SC_PAGESIZE), n);
}

void *
pvalloc(size_t n)
{
    size_t ps = (size_t) sysconf(_SC_PAGESIZE);

    return memalign(ps, (n + ps - 1) / ps * ps);
}
#endif /* !FUZZ_SANITIZER */

/* ---- Deterministic random numbers --------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, N); N > 0. */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static uint64_t
hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 0x100000001b3ull;
    return h;
}

static void
rng_init(struct rng *r, uint64_t seed, const char *name, uint64_t iter)
{
    r->s = seed * 0x2545f4914f6cdd1dull ^ hash_str(name) ^
        (iter + 1) * 0xd1342543de82ef95ull;
    rng_next(r);
}

/* ---- Seeds -------------------------------------------------------- */

struct seed {
    char name[128];
    char format[32];
    char open[256];
    char mutate[256];
    char files[FUZZ_MAX_FILES][256];
    int nfiles;
    uint8_t *data;               /* the MUTATE file as it was */
    uint64_t size;
    uint32_t *hot;               /* offsets of pointer-like words */
    size_t nhot;
    struct {
        uint32_t off, len;       /* bytes */
        uint8_t width;           /* 1 ASCII, 2 UTF-16 */
        bool be;
    } str[FUZZ_MAX_STRINGS];     /* strings that may be file names */
    size_t nstr;
    bool text;                   /* MUTATE is a small text descriptor */
    bool has_digits;             /* MUTATE holds decimal numbers */
};

static uint64_t opt_seed = 1;
static uint64_t opt_iterations = FUZZ_DEFAULT_ITERATIONS;
static unsigned opt_timeout = FUZZ_DEFAULT_TIMEOUT;
static const char *opt_only;
static const char *opt_formats;
static bool opt_verbose;
static bool opt_strict;
static bool opt_leak_check;
static bool opt_save;
static uint64_t opt_start;
static unsigned opt_threads = FUZZ_DEFAULT_THREADS;

static uint8_t *
read_whole(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *p;
    uint64_t done = 0;

    if (fd == -1 || fstat(fd, &st) == -1) {
        perror(path);
        if (fd != -1)
            close(fd);
        return NULL;
    }
    p = malloc(st.st_size ? (size_t) st.st_size : 1);
    if (p == NULL) {
        perror(path);
        close(fd);
        return NULL;
    }
    while (done < (uint64_t) st.st_size) {
        ssize_t n = pread(fd, p + done, (size_t) st.st_size - done,
                          (off_t) done);

        if (n <= 0) {
            perror(path);
            free(p);
            close(fd);
            return NULL;
        }
        done += (uint64_t) n;
    }
    close(fd);
    *size = (uint64_t) st.st_size;
    return p;
}

/* The number of zero bytes in the 4 bytes before and after OFF. */
static unsigned
seed_zero_bytes_around(const struct seed *s, uint64_t off)
{
    unsigned n = 0, i;

    for (i = 1; i <= 4; i++) {
        if (off >= i && s->data[off - i] == 0)
            n++;
        if (off + 3 + i < s->size && s->data[off + 3 + i] == 0)
            n++;
    }
    return n;
}

/* Offsets of 4-byte aligned words that look like offsets, sizes or
 * counts (non-zero and small, read either way round): metadata, which
 * is where mutations hurt.  Keeps a deterministic sample of at most
 * FUZZ_MAX_HOT.
 */
static void
seed_find_hot(struct seed *s)
{
    uint64_t limit = (s->size > (1u << 20) ? s->size : (1u << 20)) * 4;
    struct rng r;
    uint64_t seen = 0, off;

    rng_init(&r, 0, s->name, 0);
    s->hot = malloc(FUZZ_MAX_HOT * sizeof *s->hot);
    if (s->hot == NULL)
        return;
    for (off = 0; off + 4 <= s->size && off < UINT32_MAX; off += 4) {
        uint32_t le = vmc_le32(s->data + off);
        uint32_t be = vmc_be32(s->data + off);

        if (le == 0 || (le > limit && be > limit))
            continue;
        /* Metadata sits among zero bytes (high halves of 64-bit
         * fields, unused entries); guest data mostly does not.
         */
        if (seed_zero_bytes_around(s, off) < 3)
            continue;
        seen++;
        if (s->nhot < FUZZ_MAX_HOT)
            s->hot[s->nhot++] = (uint32_t) off;
        else {
            uint64_t j = rng_below(&r, seen);

            if (j < FUZZ_MAX_HOT)
                s->hot[j] = (uint32_t) off;
        }
    }
}

static bool
name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '\\' ||
        c == '-' || c == '_' || c == ':' || c == ' ';
}

/* Runs of at least 6 characters that look like names (ASCII, UTF-16LE
 * or UTF-16BE): backing files, parent locators, extent names.  Keeps
 * those with a dot (file names) first, at most FUZZ_MAX_STRINGS.
 */
static void
seed_find_strings(struct seed *s)
{
    static const struct { uint8_t width; bool be; } kinds[] = {
        { 1, false }, { 2, false }, { 2, true },
    };
    size_t k;

    for (k = 0; k < 3; k++) {
        uint64_t w = kinds[k].width, off = 0;

        while (off + w <= s->size && s->nstr < FUZZ_MAX_STRINGS) {
            uint64_t n = 0;
            bool dot = false;

            for (;;) {
                uint64_t o = off + n * w;
                uint8_t c, z = 0;

                if (o + w > s->size)
                    break;
                c = w == 1 ? s->data[o] : s->data[o + (kinds[k].be ? 1 : 0)];
                if (w == 2)
                    z = s->data[o + (kinds[k].be ? 0 : 1)];
                if (z != 0 || !name_char(c))
                    break;
                dot |= c == '.';
                n++;
            }
            if (n >= 6 && dot) {
                s->str[s->nstr].off = (uint32_t) off;
                s->str[s->nstr].len = (uint32_t) (n * w);
                s->str[s->nstr].width = (uint8_t) w;
                s->str[s->nstr].be = kinds[k].be;
                s->nstr++;
            }
            off += n > 0 ? n * w : 1;
            if (off >= UINT32_MAX)
                break;
        }
    }
}

static void
seed_classify_text(struct seed *s)
{
    uint64_t i, printable = 0, n = s->size < 4096 ? s->size : 4096;

    for (i = 0; i < n; i++)
        if ((s->data[i] >= 0x20 && s->data[i] < 0x7f) ||
            s->data[i] == '\n' || s->data[i] == '\r' || s->data[i] == '\t')
            printable++;
    s->text = s->size > 0 && s->size <= 65536 && printable * 10 >= n * 9;
    /* Embedded descriptors (VMDK sparse) sit in the first 64 KiB. */
    for (i = 0; i + 8 < s->size && i < 65536; i++)
        if (memcmp(s->data + i, "RW ", 3) == 0 ||
            memcmp(s->data + i, "ddb.", 4) == 0) {
            s->has_digits = true;
            break;
        }
    if (s->text)
        s->has_digits = true;
}

/* List the files of directory DIR into S->files. */
static int
seed_list_files(struct seed *s, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (s->nfiles == FUZZ_MAX_FILES || strlen(e->d_name) >= 256) {
            fprintf(stderr, "%s: too many files or name too long\n", dir);
            closedir(d);
            return -1;
        }
        strcpy(s->files[s->nfiles++], e->d_name);
    }
    closedir(d);
    /* readdir order is not stable; sort for reproducible reports. */
    qsort(s->files, (size_t) s->nfiles, sizeof s->files[0],
          (int (*)(const void *, const void *)) strcmp);
    return 0;
}

static bool
format_selected(const char *fmt)
{
    const char *p;
    size_t n = strlen(fmt);

    if (opt_formats == NULL || *opt_formats == '\0')
        return true;
    for (p = opt_formats; (p = strstr(p, fmt)) != NULL; p += n)
        if ((p == opt_formats || p[-1] == ',') &&
            (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* Read SEEDDIR/seeds.list.  Returns the number of seeds or -1. */
static int
seeds_load(const char *seeddir, struct seed **out)
{
    char path[FUZZ_PATH], line[1024];
    FILE *f;
    struct seed *seeds = NULL;
    int n = 0;

    snprintf(path, sizeof path, "%s/seeds.list", seeddir);
    f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        struct seed *s, *grown;
        char dir[FUZZ_PATH + 300];

        if (line[0] == '#' || line[0] == '\n')
            continue;
        grown = realloc(seeds, (size_t) (n + 1) * sizeof *seeds);
        if (grown == NULL) {
            perror("realloc");
            fclose(f);
            return -1;
        }
        seeds = grown;
        s = &seeds[n];
        memset(s, 0, sizeof *s);
        if (sscanf(line, "%127s %31s %255s %255s", s->name, s->format,
                   s->open, s->mutate) != 4) {
            fprintf(stderr, "%s: bad line: %s", path, line);
            fclose(f);
            return -1;
        }
        if (!format_selected(s->format))
            continue;
        if (opt_only) {
            size_t l = strlen(s->name);

            if (strncmp(opt_only, s->name, l) != 0 ||
                (opt_only[l] != '\0' && opt_only[l] != ':'))
                continue;
        }
        snprintf(dir, sizeof dir, "%s/%s", seeddir, s->name);
        if (seed_list_files(s, dir) == -1) {
            fclose(f);
            return -1;
        }
        snprintf(dir, sizeof dir, "%s/%s/%s", seeddir, s->name, s->mutate);
        s->data = read_whole(dir, &s->size);
        if (s->data == NULL) {
            fclose(f);
            return -1;
        }
        seed_find_hot(s);
        seed_find_strings(s);
        seed_classify_text(s);
        n++;
    }
    fclose(f);
    *out = seeds;
    return n;
}

/* Copy SRC to DST, leaving holes where SRC has zero blocks. */
static int
copy_sparse(const char *src, const char *dst)
{
    uint64_t size, off;
    uint8_t *p = read_whole(src, &size);
    int fd;

    if (p == NULL)
        return -1;
    fd = open(dst, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1 || ftruncate(fd, (off_t) size) == -1) {
        perror(dst);
        free(p);
        if (fd != -1)
            close(fd);
        return -1;
    }
    for (off = 0; off < size; off += 65536) {
        uint64_t n = size - off < 65536 ? size - off : 65536, i;

        for (i = 0; i < n && p[off + i] == 0; i++)
            ;
        if (i < n && pwrite(fd, p + off, n, (off_t) off) != (ssize_t) n) {
            perror(dst);
            free(p);
            close(fd);
            return -1;
        }
    }
    free(p);
    close(fd);
    return 0;
}

/* ---- Mutating a file in place, and undoing it --------------------- */

struct mutant {
    const struct seed *seed;
    int fd;                      /* the scratch copy of MUTATE */
    uint64_t size;               /* its current size */
    uint64_t lowest_trunc;       /* original bytes lost from here */
    struct {
        uint64_t off, len;
    } dirty[FUZZ_MAX_DIRTY];
    int ndirty;
    size_t desc_len;
};

static void
desc_add(struct mutant *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
desc_add(struct mutant *m, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (m->desc_len + 2 >= sizeof cur.desc)
        return;
    if (m->desc_len > 0) {
        cur.desc[m->desc_len++] = ';';
        cur.desc[m->desc_len++] = ' ';
        cur.desc[m->desc_len] = '\0';
    }
    va_start(ap, fmt);
    n = vsnprintf(cur.desc + m->desc_len, sizeof cur.desc - m->desc_len,
                  fmt, ap);
    va_end(ap);
    if (n > 0)
        m->desc_len += (size_t) n;
    if (m->desc_len >= sizeof cur.desc)
        m->desc_len = sizeof cur.desc - 1;
}

static void
mark_dirty(struct mutant *m, uint64_t off, uint64_t len)
{
    if (m->ndirty == FUZZ_MAX_DIRTY) {
        /* Too many to track: restore everything from OFF 0. */
        m->lowest_trunc = 0;
        return;
    }
    m->dirty[m->ndirty].off = off;
    m->dirty[m->ndirty].len = len;
    m->ndirty++;
}

static int
mut_write(struct mutant *m, uint64_t off, const void *buf, uint64_t len)
{
    if (off >= m->size)
        return 0;
    if (len > m->size - off)
        len = m->size - off;
    mark_dirty(m, off, len);
    if (pwrite(m->fd, buf, len, (off_t) off) != (ssize_t) len) {
        perror("pwrite mutant");
        return -1;
    }
    return 0;
}

static int
mut_read(struct mutant *m, uint64_t off, void *buf, uint64_t len)
{
    memset(buf, 0, len);
    if (off >= m->size)
        return 0;
    if (len > m->size - off)
        len = m->size - off;
    if (pread(m->fd, buf, len, (off_t) off) != (ssize_t) len) {
        perror("pread mutant");
        return -1;
    }
    return 0;
}

static int
mut_resize(struct mutant *m, uint64_t size)
{
    if (ftruncate(m->fd, (off_t) size) == -1) {
        perror("ftruncate mutant");
        return -1;
    }
    if (size < m->lowest_trunc)
        m->lowest_trunc = size;
    m->size = size;
    return 0;
}

/* Put the scratch file back as the seed was. */
static int
mut_restore(struct mutant *m)
{
    const struct seed *s = m->seed;
    int i;

    if (ftruncate(m->fd, (off_t) s->size) == -1) {
        perror("ftruncate restore");
        return -1;
    }
    for (i = 0; i < m->ndirty; i++) {
        uint64_t off = m->dirty[i].off, len = m->dirty[i].len;

        if (off >= s->size)
            continue;
        if (len > s->size - off)
            len = s->size - off;
        if (pwrite(m->fd, s->data + off, len, (off_t) off) != (ssize_t) len) {
            perror("pwrite restore");
            return -1;
        }
    }
    if (m->lowest_trunc < s->size) {
        uint64_t off = m->lowest_trunc, len = s->size - off;

        if (pwrite(m->fd, s->data + off, len, (off_t) off) != (ssize_t) len) {
            perror("pwrite restore");
            return -1;
        }
    }
    m->size = s->size;
    m->lowest_trunc = UINT64_MAX;
    m->ndirty = 0;
    return 0;
}

/* An offset for a WIDTH-byte mutation, biased to where headers live:
 * pointer-like words of the seed, the first 4 KiB and 64 KiB, the last
 * 1 KiB.  Returns false if the file is too small.
 */
static bool
pick_offset(struct rng *r, struct mutant *m, uint64_t width, uint64_t *off)
{
    const struct seed *s = m->seed;
    uint64_t size = m->size, span, base = 0, o;
    unsigned k = (unsigned) rng_below(r, 100);

    if (size < width)
        return false;
    span = size - width + 1;
    if (k < 35 && s->nhot > 0) {
        o = s->hot[rng_below(r, s->nhot)];
        /* Hit the word itself, or the other half of a 64-bit field. */
        if (width == 8 && rng_below(r, 2))
            o &= ~(uint64_t) 7;
        if (width == 8 && o >= 4 && rng_below(r, 4) == 0)
            o -= 4;
        if (o + width > size)
            o = size - width;
        *off = o;
        return true;
    }
    if (k < 50)
        span = span < 512 ? span : 512;
    else if (k < 65)
        span = span < 4096 ? span : 4096;
    else if (k < 75)
        span = span < 65536 ? span : 65536;
    else if (k < 85) {
        uint64_t tail = span < 1024 ? span : 1024;

        base = span - tail;
        span = tail;
    } else if (k < 90)
        span = span < (1u << 20) ? span : (1u << 20);
    o = base + rng_below(r, span);
    /* Fields are aligned: mostly hit aligned offsets. */
    if (width > 1 && rng_below(r, 4) != 0)
        o &= ~(uint64_t) (width - 1);
    *off = o;
    return true;
}

static uint64_t
pick_boundary(struct rng *r, uint64_t file_size)
{
    static const uint64_t values[] = {
        0, 1, 2, 3, 4, 7, 8, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200,
        0x201, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x100000, 0x200000,
        0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
        0xfffffffffffffe00ull,
    };
    unsigned k = (unsigned) rng_below(r, 10);

    if (k < 7)
        return values[rng_below(r, sizeof values / sizeof values[0])];
    switch (rng_below(r, 8)) {
    case 6:                     /* somewhere in the file, aligned */
        return file_size ? rng_below(r, file_size) & ~(uint64_t) 511 : 0;
    case 7:
        return file_size ? rng_below(r, file_size) & ~(uint64_t) 65535 : 0;
    case 0:
        return file_size - 1;
    case 1:
        return file_size;
    case 2:
        return file_size + 1;
    case 3:
        return file_size / 512;
    case 4:
        return file_size / 512 + 1;
    default:
        return (uint64_t) 1 << rng_below(r, 64);
    }
}

static void
put_uint(uint8_t *p, unsigned width, bool be, uint64_t v)
{
    unsigned i;

    for (i = 0; i < width; i++)
        p[be ? width - 1 - i : i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_uint(const uint8_t *p, unsigned width, bool be)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < width; i++)
        v |= (uint64_t) p[be ? width - 1 - i : i] << (8 * i);
    return v;
}

/* Replace the OLDLEN bytes at OFF with the string RS.  In a small
 * text file (a descriptor) the rest of the file moves; elsewhere (an
 * embedded descriptor) RS overwrites in place, padded with spaces.
 */
static int
mut_splice(struct mutant *m, uint64_t off, uint64_t oldlen, const char *rs)
{
    uint64_t rl = strlen(rs);

    if (m->seed->text && m->size <= 65536) {
        uint64_t tail_off = off + oldlen, tail_len = m->size - tail_off;
        uint64_t new_size = off + rl + tail_len;
        uint8_t *buf = malloc(rl + tail_len + 1);
        int ret;

        if (buf == NULL)
            return -1;
        memcpy(buf, rs, rl);
        if (mut_read(m, tail_off, buf + rl, tail_len) == -1) {
            free(buf);
            return -1;
        }
        if (new_size > m->size && mut_resize(m, new_size) == -1) {
            free(buf);
            return -1;
        }
        ret = mut_write(m, off, buf, rl + tail_len);
        free(buf);
        if (ret == 0 && new_size < m->size)
            ret = mut_resize(m, new_size);
        return ret;
    } else {
        uint8_t *buf = malloc(rl > oldlen ? rl : oldlen);
        uint64_t n = rl > oldlen ? rl : oldlen;
        int ret;

        if (buf == NULL)
            return -1;
        memset(buf, ' ', n);
        memcpy(buf, rs, rl);
        ret = mut_write(m, off, buf, n);
        free(buf);
        return ret;
    }
}

/* Read a window of the mutant at a random offset in its first 64 KiB
 * (where descriptors live) into WIN.  Returns its length (0 for an
 * empty file) with *START set, or -1 on error.
 */
static int64_t
mut_text_window(struct rng *r, struct mutant *m, uint8_t *win,
                size_t winlen, uint64_t *start)
{
    uint64_t limit = m->size < 65536 ? m->size : 65536, len;

    if (limit == 0)
        return 0;
    *start = rng_below(r, limit);
    len = m->size - *start < winlen ? m->size - *start : winlen;
    if (mut_read(m, *start, win, len) == -1)
        return -1;
    return (int64_t) len;
}

/* Replace a decimal number found near a random offset (VMDK
 * descriptors: extent sizes and offsets, geometry, CIDs).  In a small
 * text file the rest of the file moves; elsewhere the number is
 * overwritten in place.
 */
static int
mutate_number(struct rng *r, struct mutant *m)
{
    static const char *const repl[] = {
        "0", "1", "-1", "4294967295", "4294967296", "2147483648",
        "18446744073709551615", "18446744073709551616",
        "9223372036854775807", "9223372036854775808",
        "99999999999999999999999999", "0x10", "", "00000000001", "65536",
        "1 RW 1 SPARSE \"x\"",
    };
    uint8_t win[4096];
    uint64_t start = 0, i, j, len;
    const char *rs;
    char numbuf[32];
    int64_t got = mut_text_window(r, m, win, sizeof win, &start);

    if (got <= 0)
        return (int) got;
    len = (uint64_t) got;
    for (i = 0; i < len; i++)
        if (win[i] >= '0' && win[i] <= '9' &&
            (i == 0 || !(win[i - 1] >= '0' && win[i - 1] <= '9')))
            break;
    if (i == len)
        return 0;
    for (j = i; j < len && win[j] >= '0' && win[j] <= '9'; j++)
        ;
    if (rng_below(r, 4) == 0) {
        uint64_t v = 0, k;

        for (k = i; k < j && k < i + 19; k++)
            v = v * 10 + (win[k] - '0');
        v += rng_below(r, 2) ? 1 : (uint64_t) -1;
        snprintf(numbuf, sizeof numbuf, "%" PRIu64, v);
        rs = numbuf;
    } else
        rs = repl[rng_below(r, sizeof repl / sizeof repl[0])];
    desc_add(m, "number at %" PRIu64 " (%.*s) -> \"%s\"", start + i,
             (int) (j - i), (const char *) win + i, rs);
    return mut_splice(m, start + i, j - i, rs);
}

/* Replace a quoted string of a descriptor (extent and parent file
 * names, createType, UUIDs) with a hostile one or with the name of a
 * file of the set: a loop, a path leaving the directory, a device.
 */
static int
mutate_quoted(struct rng *r, struct mutant *m)
{
    static const char *const repl[] = {
        "", "../outside.vmdk", "/etc/passwd", "/dev/zero", "sub/../",
        ".", "..", "/", "nbd://localhost/x", "json:{\"file\": {}}",
        "%s%s%s%n", "monolithicSparse", "monolithicFlat",
        "twoGbMaxExtentSparse", "streamOptimized", "vmfsSparse",
        "seSparse", "vmfs", "custom", "\\\\server\\share\\x.vmdk",
        "C:\\x\\y.vhdx",
    };
    uint8_t win[4096];
    uint64_t start = 0, i, j, len;
    const struct seed *s = m->seed;
    char longname[600];
    const char *rs;
    unsigned k;
    int64_t got = mut_text_window(r, m, win, sizeof win, &start);

    if (got <= 0)
        return (int) got;
    len = (uint64_t) got;
    for (i = 0; i < len && win[i] != '"'; i++)
        ;
    for (j = i + 1; j < len && j < i + 512 && win[j] != '"' &&
             win[j] != '\n'; j++)
        ;
    if (j >= len || win[j] != '"')
        return 0;
    i++;                        /* the string is [i, j) */
    k = (unsigned) rng_below(r, 4);
    if (k == 0 && s->nfiles > 0)
        rs = s->files[rng_below(r, (uint64_t) s->nfiles)];
    else if (k == 1) {
        memset(longname, 'A', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        rs = longname + rng_below(r, sizeof longname - 200);
    } else
        rs = repl[rng_below(r, sizeof repl / sizeof repl[0])];
    desc_add(m, "string at %" PRIu64 " (\"%.*s\") -> \"%.40s%s\"",
             start + i, (int) (j - i), (const char *) win + i, rs,
             strlen(rs) > 40 ? "..." : "");
    return mut_splice(m, start + i, j - i, rs);
}

/* Overwrite a name found in the seed (a backing file, a parent
 * locator) with another of the same encoding, in place: a file of the
 * set (a loop), a path leaving the directory, a shorter name padded
 * with NULs.
 */
static int
mutate_name(struct rng *r, struct mutant *m)
{
    static const char *const repl[] = {
        "../outside.img", "/etc/passwd", "/dev/zero", "..\\..\\x.vhd",
        "C:\\Windows\\x.vhdx", ".", "", "x", "nbd://h/x",
    };
    const struct seed *s = m->seed;
    uint8_t buf[1024];
    char padded[600];
    const char *rs;
    uint64_t i, rl, w, pad;
    size_t which;

    if (s->nstr == 0)
        return 0;
    which = (size_t) rng_below(r, s->nstr);
    w = s->str[which].width;
    if (s->str[which].len > sizeof buf)
        return 0;
    if (s->nfiles > 0 && rng_below(r, 2))
        rs = s->files[rng_below(r, (uint64_t) s->nfiles)];
    else
        rs = repl[rng_below(r, sizeof repl / sizeof repl[0])];
    rl = strlen(rs);
    /* Keep the length the header records: fill the difference with
     * "./" (or ".\\") in front, which names the same file.
     */
    pad = s->str[which].len / w > rl ? s->str[which].len / w - rl : 0;
    if (pad >= 2 && rng_below(r, 2)) {
        char sep = memchr(s->data + s->str[which].off, '\\',
                          s->str[which].len) ? '\\' : '/';
        size_t n = 0;

        while (pad - n >= 2 && n + 2 < sizeof padded) {
            padded[n++] = '.';
            padded[n++] = sep;
        }
        if (pad - n == 1 && n + 1 < sizeof padded)
            padded[n++] = sep;      /* ".//name" */
        snprintf(padded + n, sizeof padded - n, "%s", rs);
        rs = padded;
        rl = strlen(rs);
    }
    memset(buf, 0, sizeof buf);
    for (i = 0; i < rl && (i + 1) * w <= s->str[which].len; i++)
        buf[i * w + (w == 2 && s->str[which].be ? 1 : 0)] = (uint8_t) rs[i];
    desc_add(m, "name at %" PRIu32 " (%" PRIu32 " bytes, %s) -> \"%s\"",
             s->str[which].off, s->str[which].len,
             w == 1 ? "ASCII" : s->str[which].be ? "UTF-16BE" : "UTF-16LE",
             rs);
    return mut_write(m, s->str[which].off, buf, s->str[which].len);
}

/* Flip one to eight bits of a byte. */
static int
mutate_flip(struct rng *r, struct mutant *m)
{
    uint8_t b, mask = (uint8_t) (1u << rng_below(r, 8));
    uint64_t off;

    if (rng_below(r, 4) == 0)
        mask = (uint8_t) (rng_below(r, 255) + 1);
    if (!pick_offset(r, m, 1, &off))
        return 0;
    if (mut_read(m, off, &b, 1) == -1)
        return -1;
    b ^= mask;
    desc_add(m, "xor 0x%02x at %" PRIu64, mask, off);
    return mut_write(m, off, &b, 1);
}

/* Set a byte to 0x00, 0xff, 0x7f or 0x80. */
static int
mutate_byte(struct rng *r, struct mutant *m)
{
    static const uint8_t bytes[] = { 0x00, 0xff, 0x7f, 0x80 };
    uint8_t b = bytes[rng_below(r, 4)];
    uint64_t off;

    if (!pick_offset(r, m, 1, &off))
        return 0;
    desc_add(m, "byte 0x%02x at %" PRIu64, b, off);
    return mut_write(m, off, &b, 1);
}

/* Write a boundary value as a WIDTH-byte integer, either byte order. */
static int
mutate_boundary(struct rng *r, struct mutant *m, unsigned width)
{
    bool be = rng_below(r, 2);
    uint64_t v = pick_boundary(r, m->size), off;
    uint8_t buf[8];

    if (!pick_offset(r, m, width, &off))
        return 0;
    put_uint(buf, width, be, v);
    desc_add(m, "u%u%s 0x%" PRIx64 " at %" PRIu64, width * 8,
             be ? "be" : "le", v & (width == 8 ? UINT64_MAX :
                                    ((uint64_t) 1 << (width * 8)) - 1),
             off);
    return mut_write(m, off, buf, width);
}

/* Add a small delta to a 32- or 64-bit field: offsets off by a sector,
 * a cluster, a byte.
 */
static int
mutate_arith(struct rng *r, struct mutant *m)
{
    static const int64_t deltas[] = {
        1, -1, 2, -2, 8, -8, 511, 512, -512, 4096, -4096, 65536,
        -65536, 1 << 20, -(1 << 20),
    };
    int64_t d = deltas[rng_below(r, sizeof deltas / sizeof deltas[0])];
    unsigned width = rng_below(r, 2) ? 4 : 8;
    bool be = rng_below(r, 2);
    uint8_t buf[8];
    uint64_t off;

    if (!pick_offset(r, m, width, &off))
        return 0;
    if (mut_read(m, off, buf, width) == -1)
        return -1;
    put_uint(buf, width, be, get_uint(buf, width, be) + (uint64_t) d);
    desc_add(m, "u%u%s %+" PRId64 " at %" PRIu64, width * 8,
             be ? "be" : "le", d, off);
    return mut_write(m, off, buf, width);
}

/* Copy a field or a few sectors' worth over another place. */
static int
mutate_copy(struct rng *r, struct mutant *m)
{
    uint8_t buf[512];
    uint64_t len = rng_below(r, 2) ? 8 : 4 + rng_below(r, 509), from, off;

    if (!pick_offset(r, m, len, &from) || !pick_offset(r, m, len, &off))
        return 0;
    if (mut_read(m, from, buf, len) == -1)
        return -1;
    desc_add(m, "copy %" PRIu64 " bytes from %" PRIu64 " to %" PRIu64,
             len, from, off);
    return mut_write(m, off, buf, len);
}

/* Wipe a range (part of a table) with 0x00 or 0xff. */
static int
mutate_fill(struct rng *r, struct mutant *m)
{
    uint8_t buf[4096];
    uint8_t fill = rng_below(r, 2) ? 0x00 : 0xff;
    uint64_t len = 16 + rng_below(r, sizeof buf - 16), off;

    if (!pick_offset(r, m, 1, &off))
        return 0;
    memset(buf, fill, len);
    desc_add(m, "fill %" PRIu64 " bytes of 0x%02x at %" PRIu64, len, fill,
             off);
    return mut_write(m, off, buf, len);
}

/* Cut the file: by a little, by the footer, into the headers, anywhere. */
static int
mutate_truncate(struct rng *r, struct mutant *m)
{
    uint64_t size = m->size, len;

    if (size == 0)
        return 0;
    switch (rng_below(r, 4)) {
    case 0:
        len = size - 1 - rng_below(r, size < 1024 ? size : 1024);
        break;
    case 1:
        len = size - (size < 512 ? size : 512);
        break;
    case 2:
        len = rng_below(r, size < 65536 ? size : 65536);
        break;
    default:
        len = rng_below(r, size);
        break;
    }
    desc_add(m, "truncate to %" PRIu64, len);
    return mut_resize(m, len);
}

/* Grow the file (a hole), sometimes ending in a copy of its old last
 * sector (a footer where a footer may be looked for).
 */
static int
mutate_extend(struct rng *r, struct mutant *m)
{
    uint8_t buf[512];
    uint64_t add, old = m->size;

    switch (rng_below(r, 4)) {
    case 0:
        add = 1 + rng_below(r, 511);
        break;
    case 1:
        add = 512;
        break;
    case 2:
        add = (uint64_t) 1 << (9 + rng_below(r, 22));
        break;
    default:
        add = 1 + rng_below(r, 1u << 20);
        break;
    }
    desc_add(m, "extend by %" PRIu64, add);
    if (mut_resize(m, m->size + add) == -1)
        return -1;
    if (add >= 512 && old >= 512 && rng_below(r, 2)) {
        if (mut_read(m, old - 512, buf, 512) == -1)
            return -1;
        return mut_write(m, m->size - 512, buf, 512);
    }
    return 0;
}

/* One random mutation of M.  Returns 0 or -1 (I/O error). */
static int
mutate_once(struct rng *r, struct mutant *m)
{
    unsigned k = (unsigned) rng_below(r, m->seed->has_digits ? 120 : 100);

    if (m->seed->nstr > 0 && rng_below(r, 25) == 0)
        return mutate_name(r, m);
    if (k < 14)
        return mutate_flip(r, m);
    if (k < 26)
        return mutate_byte(r, m);
    if (k < 60)
        return mutate_boundary(r, m, k < 30 ? 2 : k < 46 ? 4 : 8);
    if (k < 70)
        return mutate_arith(r, m);
    if (k < 76)
        return mutate_copy(r, m);
    if (k < 81)
        return mutate_fill(r, m);
    if (k < 88)
        return mutate_truncate(r, m);
    if (k < 100)
        return mutate_extend(r, m);
    if (k < 110)
        return mutate_number(r, m);
    return mutate_quoted(r, m);
}

/* ---- Checksums, so mutations reach past the first check ----------- */

static int
fix_vpc_struct(struct mutant *m, uint64_t off, const char *cookie,
               size_t len, size_t csum_off)
{
    uint8_t buf[1024];

    if (off + len > m->size || mut_read(m, off, buf, len) == -1)
        return 0;
    if (memcmp(buf, cookie, 8) != 0)
        return 0;
    put_uint(buf + csum_off, 4, true, vpc_checksum(buf, len, csum_off));
    return mut_write(m, off + csum_off, buf + csum_off, 4);
}

static int
fix_vpc(struct mutant *m)
{
    uint8_t foot[512];
    uint64_t dyn;

    if (m->size < 512)
        return 0;
    if (fix_vpc_struct(m, m->size - 512, "conectix", 512, 64) == -1 ||
        fix_vpc_struct(m, 0, "conectix", 512, 64) == -1)
        return -1;
    if (mut_read(m, m->size - 512, foot, 512) == -1)
        return -1;
    if (memcmp(foot, "conectix", 8) != 0 &&
        mut_read(m, 0, foot, 512) == -1)
        return -1;
    dyn = get_uint(foot + 16, 8, true);
    if (dyn < m->size)
        return fix_vpc_struct(m, dyn, "cxsparse", 1024, 36);
    return 0;
}

static int
fix_vhdx_struct(struct mutant *m, uint64_t off, const char *sig,
                size_t len)
{
    static uint8_t buf[65536];

    if (off + len > m->size || mut_read(m, off, buf, len) == -1)
        return 0;
    if (memcmp(buf, sig, 4) != 0)
        return 0;
    memset(buf + 4, 0, 4);
    put_uint(buf + 4, 4, false, vmc_crc32c(0, buf, len));
    return mut_write(m, off + 4, buf + 4, 4);
}

static int
fix_vhdx(struct mutant *m)
{
    if (fix_vhdx_struct(m, 64 * 1024, "head", 4096) == -1 ||
        fix_vhdx_struct(m, 128 * 1024, "head", 4096) == -1 ||
        fix_vhdx_struct(m, 192 * 1024, "regi", 65536) == -1 ||
        fix_vhdx_struct(m, 256 * 1024, "regi", 65536) == -1)
        return -1;
    return 0;
}

/* ---- Running one mutant ------------------------------------------- */

struct stats {
    char format[32];
    uint64_t mutants;
    uint64_t opened;             /* with the explicit format */
    uint64_t read_bytes;
    uint64_t checked;
    uint64_t silent_errors;      /* a call failed without a message */
    uint64_t unnamed;            /* with a message naming no file */
    uint64_t walks_cut;          /* block status walks not finished */
    uint64_t largest_alloc;      /* one allocation, bytes */
    char largest_alloc_by[160];  /* the mutant that made it */
    double slowest;              /* one mutant, seconds */
    char slowest_by[160];
};

static struct stats stats[16];
static size_t nstats;
static struct stats *cur_stats;
static uint64_t silent_total;

static struct stats *
stats_for(const char *fmt)
{
    size_t i;

    for (i = 0; i < nstats; i++)
        if (strcmp(stats[i].format, fmt) == 0)
            return &stats[i];
    if (nstats == sizeof stats / sizeof stats[0])
        return &stats[nstats - 1];
    snprintf(stats[nstats].format, sizeof stats[nstats].format, "%s", fmt);
    return &stats[nstats++];
}

static struct vmc_handle *h;
static char last_error[512];
static bool mutant_failed;          /* a check failed; already reported */

static void
quiet_log(void *opaque, enum vmc_log_level level, const char *msg)
{
}

/* A call failed: it must have left a message naming something. */
static void
note_error(const char *what)
{
    const char *e = vmc_get_error(h);

    if (e != NULL && *e != '\0') {
        snprintf(last_error, sizeof last_error, "%s", e);
        /* Messages name the file (any of the set: a backing file's
         * error names the backing file).
         */
        if (cur.setdir[0] && strstr(e, cur.setdir) == NULL && cur_stats) {
            if (cur_stats->unnamed++ < 3 || opt_verbose)
                fprintf(stderr, "fuzz: %s: %s failed with a message that "
                        "names no file: %s\n", cur.ident, what, e);
        }
        return;
    }
    if (cur_stats)
        cur_stats->silent_errors++;
    silent_total++;
    fprintf(stderr, "fuzz: %s: %s failed without an error message\n",
            cur.ident, what);
    if (opt_strict) {
        report_failure("a call failed without an error message");
        exit(1);
    }
}

static void
exercise_read(struct vmc_image *img, struct rng *r, uint8_t *buf,
              uint64_t *budget, uint64_t off, uint64_t len)
{
    while (len > 0 && *budget > 0) {
        uint64_t n = len < FUZZ_READ_CHUNK ? len : FUZZ_READ_CHUNK;

        if (n > *budget)
            n = *budget;
        vmc_clear_error(h);
        cur.phase = "vmc_image_pread";
        if (vmc_image_pread(img, buf, n, off) == -1) {
            note_error("pread");
            return;
        }
        if (cur_stats)
            cur_stats->read_bytes += n;
        *budget -= n;
        off += n;
        len -= n;
    }
}

/* Block status said [OFF, OFF+LEN) is a zero or hole run (type T):
 * it must read as zeros, or a conversion (which skips such runs) and a
 * read of the image would disagree.  A mismatch fails the mutant.
 */
static void
check_zero_run(struct vmc_image *img, enum vmc_extent_type t, uint64_t off,
               uint64_t len, uint8_t *buf)
{
    uint64_t k;

    cur.phase = "vmc_image_pread (of a zero run)";
    vmc_clear_error(h);
    if (vmc_image_pread(img, buf, len, off) == -1) {
        note_error("pread");
        return;
    }
    if (cur_stats)
        cur_stats->read_bytes += len;
    for (k = 0; k < len && buf[k] == 0; k++)
        ;
    if (k == len)
        return;
    fprintf(stderr, "fuzz: block status says %s for %" PRIu64 " bytes at "
            "offset %" PRIu64 " but byte %" PRIu64 " reads as 0x%02x\n",
            t == VMC_EXTENT_ZERO ? "zero" : "hole", len, off, off + k,
            buf[k]);
    report_failure("a zero run of block status does not read as zeros");
    mutant_failed = true;
}

/* Read a random range whole and in two or three pieces: whatever the
 * image holds, the bytes must agree (a driver's splitting of requests
 * at cluster, block or extent boundaries is where reads go wrong).
 * BUF holds FUZZ_READ_CHUNK bytes.  A mismatch fails the mutant.
 */
static void
check_split_read(struct vmc_image *img, struct rng *r, uint8_t *buf)
{
    uint64_t size = vmc_image_size(img), half = FUZZ_READ_CHUNK / 2;
    uint64_t off = rng_below(r, size), len = 1 + rng_below(r, half);
    uint64_t cut[2], done = 0;
    unsigned i, ncut = 1 + (unsigned) rng_below(r, 2);
    uint8_t *whole = buf, *parts = buf + half;

    if (len > size - off)
        len = size - off;
    for (i = 0; i < ncut; i++)
        cut[i] = rng_below(r, len + 1);
    if (ncut == 2 && cut[0] > cut[1]) {
        uint64_t t = cut[0];

        cut[0] = cut[1];
        cut[1] = t;
    }
    cur.phase = "vmc_image_pread (whole range, for the split-read check)";
    if (vmc_image_pread(img, whole, len, off) == -1)
        return;
    for (i = 0; i <= ncut; i++) {
        uint64_t end = i < ncut ? cut[i] : len;

        if (end <= done)
            continue;
        cur.phase = "vmc_image_pread (pieces, for the split-read check)";
        if (vmc_image_pread(img, parts + done, end - done, off + done) == -1)
            return;
        done = end;
    }
    if (memcmp(whole, parts, len) != 0) {
        uint64_t k;

        for (k = 0; k < len && whole[k] == parts[k]; k++)
            ;
        fprintf(stderr, "fuzz: a read of %" PRIu64 " bytes at offset %"
                PRIu64 " differs from the same range read in pieces (cut "
                "at %" PRIu64 " and %" PRIu64 ") from byte %" PRIu64 "\n",
                len, off, cut[0], ncut == 2 ? cut[1] : len, k);
        report_failure("the same bytes read whole and in pieces differ");
        mutant_failed = true;
    }
}

/* One of the threads that read an image at once, as the copy engine
 * does: random ranges and block status, errors ignored.
 */
struct reader {
    pthread_t tid;
    struct vmc_image *img;
    struct rng r;
    uint8_t *buf;
};

static void *
reader_run(void *arg)
{
    struct reader *rd = arg;
    uint64_t size = vmc_image_size(rd->img);
    unsigned i;

    for (i = 0; i < FUZZ_THREAD_READS && size > 0; i++) {
        uint64_t off = rng_below(&rd->r, size), run;
        uint64_t len = 1 + rng_below(&rd->r, FUZZ_THREAD_READ_MAX);
        enum vmc_extent_type t;

        if (len > size - off)
            len = size - off;
        (void) vmc_image_pread(rd->img, rd->buf, len, off);
        (void) vmc_image_block_status(rd->img, off, size - off, &t, &run);
    }
    return NULL;
}

/* Read IMG from opt_threads threads at once. */
static void
exercise_threads(struct vmc_image *img, struct rng *r)
{
    struct reader rd[FUZZ_MAX_THREADS];
    unsigned i, n = 0;

    cur.phase = "concurrent vmc_image_pread and block status";
    for (i = 0; i < opt_threads && i < FUZZ_MAX_THREADS; i++) {
        rd[i].img = img;
        rd[i].r.s = rng_next(r);
        rd[i].buf = malloc(FUZZ_THREAD_READ_MAX);
        if (rd[i].buf == NULL)
            break;
        if (pthread_create(&rd[i].tid, NULL, reader_run, &rd[i]) != 0) {
            free(rd[i].buf);
            break;
        }
        n++;
    }
    for (i = 0; i < n; i++) {
        pthread_join(rd[i].tid, NULL);
        free(rd[i].buf);
    }
}

/* The calls a user of the image API makes, on an opened image. */
static void
exercise_image(struct vmc_image *img, struct rng *r, uint8_t *buf)
{
    uint64_t size = vmc_image_size(img), off = 0, budget = FUZZ_READ_BUDGET;
    unsigned calls = 0, i;
    char *json;
    struct vmc_check_result cr;

    while (off < size && calls++ < FUZZ_MAX_EXTENTS) {
        enum vmc_extent_type t;
        uint64_t run;

        vmc_clear_error(h);
        cur.phase = "vmc_image_block_status";
        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1) {
            note_error("block status");
            break;
        }
        if (t == VMC_EXTENT_DATA)
            exercise_read(img, r, buf, &budget, off, run);
        else if (rng_below(r, 8) == 0)
            check_zero_run(img, t, off, run < 4096 ? run : 4096, buf);
        off += run;
    }
    if (off < size && calls > FUZZ_MAX_EXTENTS && cur_stats) {
        cur_stats->walks_cut++;
        if (opt_verbose)
            fprintf(stderr, "fuzz: %s: block status walk stopped at %"
                    PRIu64 " of %" PRIu64 " bytes after %u calls\n",
                    cur.ident, off, size, FUZZ_MAX_EXTENTS);
    }
    /* Unaligned reads and block status anywhere. */
    for (i = 0; i < 4 && size > 0; i++) {
        enum vmc_extent_type t;
        uint64_t run, len;

        off = rng_below(r, size);
        len = 1 + rng_below(r, 3 * 65536);
        if (len > size - off)
            len = size - off;
        budget += len < FUZZ_READ_CHUNK ? len : FUZZ_READ_CHUNK;
        exercise_read(img, r, buf, &budget, off, len);
        vmc_clear_error(h);
        cur.phase = "vmc_image_block_status (random offset)";
        if (vmc_image_block_status(img, off, size - off, &t, &run) == -1)
            note_error("block status");
    }
    for (i = 0; i < 2 && size > 0 && !mutant_failed; i++)
        check_split_read(img, r, buf);
    if (opt_threads > 0)
        exercise_threads(img, r);
    vmc_clear_error(h);
    cur.phase = "vmc_image_info_json";
    json = vmc_image_info_json(img);
    if (json == NULL)
        note_error("info json");
    free(json);
    vmc_clear_error(h);
    cur.phase = "vmc_image_check";
    memset(&cr, 0, sizeof cr);
    if (vmc_image_check(img, &cr) == -1)
        note_error("check");
    else if (cur_stats)
        cur_stats->checked++;
    vmc_check_result_free(&cr);
}

/* Open PATH with FORMAT (NULL: probe) and FLAGS and run everything.
 * Returns the format opened as, or NULL if it did not open.
 */
static const char *
exercise_open(const char *path, const char *format, unsigned flags,
              struct rng *r, uint8_t *buf, bool run_all)
{
    struct vmc_image *img;
    const char *fmt;

    vmc_clear_error(h);
    cur.phase = format ? "vmc_image_open (explicit format)"
        : "vmc_image_open (probe)";
    img = vmc_image_open(h, path, format, flags);
    if (img == NULL) {
        note_error("open");
        return NULL;
    }
    fmt = vmc_image_format(img);
    if (run_all)
        exercise_image(img, r, buf);
    cur.phase = "vmc_image_close";
    vmc_image_close(img);
    cur.phase = "after close";
    return fmt;
}

/* The lowest free descriptor: grows if a run leaked one. */
static int
lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (fd != -1)
        close(fd);
    return fd;
}

/* Probe-open and explicit-open PATH (format FORMAT). */
static void
exercise_file(const char *path, const char *format, unsigned flags,
              struct rng *r, uint8_t *buf)
{
    const char *probed = exercise_open(path, NULL, flags, r, buf, true);
    bool same = probed && format && strcmp(probed, format) == 0;
    const char *explicit_fmt = NULL;

    if (format)
        explicit_fmt = exercise_open(path, format, flags, r, buf, !same);
    if (explicit_fmt && cur_stats)
        cur_stats->opened++;
}

static unsigned
pick_flags(struct rng *r)
{
    switch (rng_below(r, 8)) {
    case 0:
        return VMC_IMAGE_NO_BACKING;
    case 1:
        return VMC_IMAGE_IGNORE_PARENT_ID;
    default:
        return 0;
    }
}

static const char *
flags_name(unsigned flags)
{
    return flags == VMC_IMAGE_NO_BACKING ? "nobacking"
        : flags == VMC_IMAGE_IGNORE_PARENT_ID ? "ignoreparent" : "";
}

/* Apply one to eight random mutations to M's file, then (mostly) fix
 * the checksums of VHD and VHDX so the mutations are looked at.
 * Returns 0, or -1 on an I/O error of the test.
 */
static int
mutant_make(const struct seed *s, struct mutant *m, struct rng *r)
{
    unsigned nmut, i;

    m->desc_len = 0;
    cur.desc[0] = '\0';
    switch (rng_below(r, 8)) {
    case 0: case 1: case 2: case 3:
        nmut = 1;
        break;
    case 4: case 5:
        nmut = 2;
        break;
    case 6:
        nmut = 3 + (unsigned) rng_below(r, 2);
        break;
    default:
        nmut = 5 + (unsigned) rng_below(r, FUZZ_MAX_MUTATIONS - 4);
        break;
    }
    for (i = 0; i < nmut; i++)
        if (mutate_once(r, m) == -1)
            return -1;
    if (rng_below(r, 4) != 0) {
        if (strcmp(s->format, "vpc") == 0 && fix_vpc(m) == -1)
            return -1;
        if (strcmp(s->format, "vhdx") == 0 && fix_vhdx(m) == -1)
            return -1;
    }
    return 0;
}

/* Note how long mutant ITER of S took and its largest allocation. */
static void
mutant_record(const struct seed *s, uint64_t iter, double secs)
{
    if (secs > cur_stats->slowest) {
        cur_stats->slowest = secs;
        snprintf(cur_stats->slowest_by, sizeof cur_stats->slowest_by,
                 "%s:%" PRIu64, s->name, iter);
    }
#ifndef FUZZ_SANITIZER
    if (largest_alloc > cur_stats->largest_alloc) {
        cur_stats->largest_alloc = largest_alloc;
        snprintf(cur_stats->largest_alloc_by,
                 sizeof cur_stats->largest_alloc_by, "%s:%" PRIu64, s->name,
                 iter);
    }
    largest_alloc = 0;
#endif
}

/* Make mutant ITER of S in M's file, run it, undo it.  Returns 0, or
 * -1 on a failure of the test itself (the failure is reported).
 */
static int
run_mutant(struct seed *s, struct mutant *m, uint64_t iter,
           const char *setdir, const char *failroot, uint8_t *buf,
           int base_fd)
{
    struct rng r;
    char open_path[FUZZ_PATH + 300];
    unsigned flags;
    int fd_after;
    struct timespec t0, t1;

    rng_init(&r, opt_seed, s->name, iter);
    if (mutant_make(s, m, &r) == -1)
        return -1;
    flags = pick_flags(&r);
    snprintf(cur.ident, sizeof cur.ident,
             "seed %s iteration %" PRIu64 " (FUZZ_SEED=%" PRIu64
             " FUZZ_ONLY=%s:%" PRIu64 ")%s%s", s->name, iter, opt_seed,
             s->name, iter, flags ? " open flags " : "", flags_name(flags));
    snprintf(cur.faildir, sizeof cur.faildir, "%s/%s-%" PRIu64, failroot,
             s->name, iter);
    snprintf(cur.args, sizeof cur.args, "%s %s %s", s->open, s->format,
             flags_name(flags));
    snprintf(open_path, sizeof open_path, "%s/%s", setdir, s->open);
    if (opt_verbose)
        fprintf(stderr, "fuzz: %s: %s\n", cur.ident, cur.desc);

    cur.active = 1;
    alarm(opt_timeout);
    last_error[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    exercise_file(open_path, s->format, flags, &r, buf);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    alarm(0);
    mutant_record(s, iter, (double) (t1.tv_sec - t0.tv_sec) +
                  (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (opt_verbose)
        fprintf(stderr, "fuzz:   -> %s\n",
                last_error[0] ? last_error : "no error");
    if (opt_save)
        save_mutant();
    if (mutant_failed) {
        cur.active = 0;
        return -1;
    }
    cur.phase = "checking for leaked descriptors";
    fd_after = lowest_free_fd();
    if (fd_after != base_fd) {
        report_failure("a file descriptor was left open");
        cur.active = 0;
        return -1;
    }
#ifdef FUZZ_ASAN
    cur.phase = "checking for leaked memory";
    if (opt_leak_check && __lsan_do_recoverable_leak_check()) {
        report_failure("memory leaked (see the LeakSanitizer report above)");
        cur.active = 0;
        return -1;
    }
#endif
    cur.active = 0;
    cur_stats->mutants++;
    return mut_restore(m);
}

/* Copy the files of seed S into SCRATCH/NAME and fuzz it. */
static int
fuzz_seed(struct seed *s, const char *seeddir, const char *scratch,
          const char *failroot, uint8_t *buf)
{
    char setdir[FUZZ_PATH], src[FUZZ_PATH + 300], dst[FUZZ_PATH + 300];
    struct mutant m;
    uint64_t iter, first = opt_start, last = opt_iterations;
    int i, base_fd, ret = 0;

    if (opt_only && strchr(opt_only, ':')) {
        first = strtoull(strchr(opt_only, ':') + 1, NULL, 10);
        last = first + 1;
    }
    snprintf(setdir, sizeof setdir, "%s/%s", scratch, s->name);
    if (mkdir(setdir, 0755) == -1 && errno != EEXIST) {
        perror(setdir);
        return -1;
    }
    for (i = 0; i < s->nfiles; i++) {
        snprintf(src, sizeof src, "%s/%s/%s", seeddir, s->name, s->files[i]);
        snprintf(dst, sizeof dst, "%s/%s", setdir, s->files[i]);
        if (copy_sparse(src, dst) == -1)
            return -1;
    }
    snprintf(cur.setdir, sizeof cur.setdir, "%s", setdir);
    cur.nfiles = s->nfiles;
    for (i = 0; i < s->nfiles; i++)
        memcpy(cur.files[i], s->files[i], sizeof cur.files[i]);

    memset(&m, 0, sizeof m);
    m.seed = s;
    m.size = s->size;
    m.lowest_trunc = UINT64_MAX;
    snprintf(dst, sizeof dst, "%s/%s", setdir, s->mutate);
    m.fd = open(dst, O_RDWR | O_CLOEXEC);
    if (m.fd == -1) {
        perror(dst);
        return -1;
    }
    cur_stats = stats_for(s->format);
    base_fd = lowest_free_fd();
    for (iter = first; iter < last; iter++)
        if (run_mutant(s, &m, iter, setdir, failroot, buf, base_fd) == -1) {
            ret = -1;
            break;
        }
    close(m.fd);
    if (ret == 0) {
        for (i = 0; i < s->nfiles; i++) {
            snprintf(dst, sizeof dst, "%s/%s", setdir, s->files[i]);
            unlink(dst);
        }
        rmdir(setdir);
    }
    return ret;
}

/* ---- Entry points ------------------------------------------------- */

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    char *end;
    uint64_t v;

    if (s == NULL || *s == '\0')
        return dflt;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end != '\0') {
        fprintf(stderr, "fuzz: %s=%s is not a number\n", name, s);
        exit(99);
    }
    return v;
}

/* Deterministic guest data for seeds: text, counters, a little
 * pseudo-random data, zeros between.
 */
static int
make_raw(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    static uint8_t b[65536];
    struct rng r = { 42 };
    uint64_t off;

    if (fd == -1 || ftruncate(fd, (off_t) size) == -1) {
        perror(path);
        return 99;
    }
    for (off = 0; off < size; off += sizeof b) {
        uint64_t block = off / sizeof b, i;
        size_t n = size - off < sizeof b ? (size_t) (size - off) : sizeof b;

        switch (block % 7) {
        case 0:
            for (i = 0; i < n; i++)
                b[i] = (uint8_t) "vmconv fuzz seed data\n"[(off + i) % 22];
            break;
        case 2:
            for (i = 0; i < n; i++)
                b[i] = (uint8_t) (i * 7 + block);
            break;
        case 5:
            if (block % 3 == 0) {
                for (i = 0; i < n; i++)
                    b[i] = (uint8_t) rng_next(&r);
                break;
            }
            continue;
        default:
            continue;               /* a hole */
        }
        if (pwrite(fd, b, n, (off_t) off) != (ssize_t) n) {
            perror(path);
            close(fd);
            return 99;
        }
    }
    close(fd);
    return 0;
}

/* Run the calls on one file, with each set of open flags. */
static int
run_one(const char *path, const char *format)
{
    static const unsigned flag_sets[] = {
        0, VMC_IMAGE_NO_BACKING, VMC_IMAGE_IGNORE_PARENT_ID,
    };
    uint8_t *buf = malloc(FUZZ_READ_CHUNK);
    struct rng r;
    size_t i;

    if (buf == NULL)
        return 99;
    cur_stats = stats_for(format ? format : "probe");
    for (i = 0; i < 3; i++) {
        rng_init(&r, opt_seed, path, i);
        snprintf(cur.ident, sizeof cur.ident, "file %s flags %s", path,
                 flags_name(flag_sets[i]));
        cur.active = 1;
        alarm(opt_timeout);
        exercise_file(path, format, flag_sets[i], &r, buf);
        alarm(0);
        cur.active = 0;
        printf("%s (%s): %s\n", path, flags_name(flag_sets[i]),
               last_error[0] ? last_error : "no error");
        last_error[0] = '\0';
    }
    free(buf);
    return mutant_failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
    struct seed *seeds = NULL;
    uint8_t *buf;
    int nseeds, i, failed = 0;
    size_t k;

    opt_seed = env_u64("FUZZ_SEED", 1);
    opt_iterations = env_u64("FUZZ_ITERATIONS", FUZZ_DEFAULT_ITERATIONS);
    opt_timeout = (unsigned) env_u64("FUZZ_TIMEOUT", FUZZ_DEFAULT_TIMEOUT);
#ifndef FUZZ_SANITIZER
    max_alloc = env_u64("FUZZ_MAX_ALLOC", FUZZ_DEFAULT_MAX_ALLOC);
#endif
    opt_only = getenv("FUZZ_ONLY");
    opt_formats = getenv("FUZZ_FORMATS");
    opt_verbose = env_u64("FUZZ_VERBOSE", 0) != 0;
    opt_strict = env_u64("FUZZ_STRICT", 0) != 0;
    opt_leak_check = env_u64("FUZZ_LEAK_CHECK", 0) != 0;
    opt_save = env_u64("FUZZ_SAVE", 0) != 0;
    opt_start = env_u64("FUZZ_START", 0);
    opt_threads = (unsigned) env_u64("FUZZ_THREADS", FUZZ_DEFAULT_THREADS);

    if (argc == 4 && strcmp(argv[1], "--make-raw") == 0)
        return make_raw(argv[2], strtoull(argv[3], NULL, 0));

    h = vmc_new();
    if (h == NULL) {
        perror("vmc_new");
        return 99;
    }
    vmc_set_log_handler(h, quiet_log, NULL);
    install_guards();

    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--one") == 0)
        return run_one(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc != 4) {
        fprintf(stderr, "usage: %s SEEDDIR SCRATCHDIR FAILDIR\n"
                "       %s --one FILE [FORMAT]\n"
                "       %s --make-raw FILE SIZE\n", argv[0], argv[0],
                argv[0]);
        return 99;
    }

    snprintf(cur.failroot, sizeof cur.failroot, "%s", argv[3]);
    nseeds = seeds_load(argv[1], &seeds);
    if (nseeds < 0)
        return 99;
    if (nseeds == 0) {
        printf("SKIP: no seeds selected in %s\n", argv[1]);
        return 77;
    }
    buf = malloc(FUZZ_READ_CHUNK);
    if (buf == NULL)
        return 99;
    printf("fuzz: %d seeds, %" PRIu64 " mutants each, FUZZ_SEED=%" PRIu64
           ", timeout %us\n", nseeds, opt_iterations, opt_seed, opt_timeout);
    fflush(stdout);
    for (i = 0; i < nseeds && !failed; i++) {
        if (opt_verbose)
            fprintf(stderr, "fuzz: seed %s (%s, %" PRIu64 " bytes, %zu "
                    "pointer-like words)\n", seeds[i].name, seeds[i].format,
                    seeds[i].size, seeds[i].nhot);
        if (fuzz_seed(&seeds[i], argv[1], argv[2], argv[3], buf) == -1)
            failed = 1;
    }
    for (k = 0; k < nstats; k++)
        printf("fuzz: %-6s %6" PRIu64 " mutants, %6" PRIu64 " opened, %6"
               PRIu64 " checked, %" PRIu64 " MiB read, %" PRIu64
               " silent failures, %" PRIu64 " messages naming no file\n",
               stats[k].format, stats[k].mutants,
               stats[k].opened, stats[k].checked,
               stats[k].read_bytes >> 20, stats[k].silent_errors,
               stats[k].unnamed);
    for (k = 0; k < nstats; k++)
        printf("fuzz: %-6s slowest mutant %.3f s (%s), largest allocation "
               "%" PRIu64 " KiB (%s), %" PRIu64 " walks cut short\n",
               stats[k].format, stats[k].slowest,
               stats[k].slowest_by, stats[k].largest_alloc >> 10,
               stats[k].largest_alloc_by[0] ? stats[k].largest_alloc_by
               : "not measured", stats[k].walks_cut);
    for (i = 0; i < nseeds; i++) {
        free(seeds[i].data);
        free(seeds[i].hot);
    }
    free(seeds);
    free(buf);
    vmc_free(h);
    if (failed) {
        printf("fuzz: FAILED (see the report above)\n");
        return 1;
    }
    printf("fuzz: passed\n");
    return 0;
}
