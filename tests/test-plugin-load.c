/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader: which directory it reads, which plugins it
 * accepts, the exact refusal (naming the file) for each broken one, and
 * picking a plugin for a source.  The plugins are built from
 * tests/broken-plugins/broken.c (see tests/foundation.mk).
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmconv/plugin.h>

static struct vmc_handle *h;
static char dir[PATH_MAX];       /* scratch plugin directory (realpath) */
static char warnings[8192];      /* warnings logged on h, one a line */

static void
log_fn(void *opaque, enum vmc_log_level level, const char *msg)
{
    if (level != VMC_LOG_WARNING)
        return;
    if (strlen(warnings) + strlen(msg) + 2 < sizeof warnings) {
        strcat(warnings, msg);
        strcat(warnings, "\n");
    }
}

static void
setup(void)
{
    char tmpl[] = "/tmp/vmconv-plugin-test.XXXXXX";

    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    ck_assert_ptr_nonnull(realpath(tmpl, dir));
    warnings[0] = '\0';
    h = vmc_new();
    ck_assert_ptr_nonnull(h);
    vmc_set_log_handler(h, log_fn, NULL);
    unsetenv("VMCONV_TEST_PLUGIN_LOG");
}

static void
teardown(void)
{
    char cmd[PATH_MAX + 16];

    vmc_free(h);
    h = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Link test plugin VARIANT (vmconv-test-VARIANT.so) into the
 * directory IN as vmconv-AS.so.
 */
static void
add_plugin_in(const char *in, const char *variant, const char *as)
{
    const char *builddir = getenv("builddir");
    char src[PATH_MAX], dst[2 * PATH_MAX];
    char *abs;

    snprintf(src, sizeof src, "%s/.libs/vmconv-test-%s.so",
             builddir ? builddir : ".", variant);
    abs = realpath(src, NULL);
    if (abs == NULL)
        ck_abort_msg("%s: %s (build the test plugins first)", src,
                     strerror(errno));
    snprintf(dst, sizeof dst, "%s/vmconv-%s.so", in, as);
    ck_assert_int_eq(symlink(abs, dst), 0);
    free(abs);
}

/* ... into the scratch directory. */
static void
add_plugin(const char *variant, const char *as)
{
    add_plugin_in(dir, variant, as);
}

static void
add_file(const char *name, const char *content)
{
    char path[2 * PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(content, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

static void
load_ok(void)
{
    if (vmc_plugins_load(h, dir) == -1)
        ck_abort_msg("vmc_plugins_load: %s", vmc_get_error(h));
}

/* The one refusal expected: "DIR/FILE: plugin refused: REASON", both
 * recorded and logged as a warning.
 */
static void
expect_refused(const char *file, const char *reason)
{
    char msg[PATH_MAX + 512];
    char line[PATH_MAX + 514];

    snprintf(msg, sizeof msg, "%s/%s: plugin refused: %s", dir, file,
             reason);
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 1);
    ck_assert_str_eq(vmc_plugins_refused(h, 0), msg);
    snprintf(line, sizeof line, "%s\n", msg);
    ck_assert_str_eq(warnings, line);
}

START_TEST(test_good_plugin_loads)
{
    char file[PATH_MAX + 32];
    struct vmc_loaded_plugin *p;

    add_plugin("good", "good");
    load_ok();
    ck_assert_str_eq(vmc_plugins_dir(h), dir);
    ck_assert_uint_eq(vmc_plugin_count(h), 1);
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
    ck_assert_str_eq(warnings, "");
    p = vmc_plugin_get(h, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(vmc_plugin_get(h, 1));
    ck_assert_ptr_eq(vmc_plugin_find(h, "good"), p);
    ck_assert_ptr_null(vmc_plugin_find(h, "bad"));
    ck_assert_str_eq(vmc_plugin_name(p), "good");
    ck_assert_str_eq(vmc_plugin_version(p), "0");
    ck_assert_str_eq(vmc_plugin_description(p), "loader test plugin");
    snprintf(file, sizeof file, "%s/vmconv-good.so", dir);
    ck_assert_str_eq(vmc_plugin_file(p), file);
    ck_assert_uint_eq(vmc_plugin_api_version(p), VMC_PLUGIN_API_VERSION);
    ck_assert_uint_eq(vmc_plugin_model_version(p), VMC_VM_MODEL_VERSION);
    ck_assert(vmc_plugin_can_read(p));
    ck_assert(!vmc_plugin_can_write(p));
    ck_assert(!vmc_plugin_can_finish(p));
    ck_assert_ptr_null(vmc_plugin_config_help(p));
    ck_assert_ptr_null(vmc_plugin_target_caps(p));
}
END_TEST

/* load runs once when accepted, unload when the handle is freed. */
START_TEST(test_load_and_unload_callbacks)
{
    char log[PATH_MAX + 16];
    char buf[256] = "";
    FILE *fp;
    size_t n;

    snprintf(log, sizeof log, "%s/calls.log", dir);
    setenv("VMCONV_TEST_PLUGIN_LOG", log, 1);
    add_plugin("good", "good");
    load_ok();
    vmc_free(h);
    h = NULL;
    fp = fopen(log, "r");
    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    ck_assert_str_eq(buf, "good load\ngood unload\n");
}
END_TEST

/* A plugin built against a future plugin.h (a bigger struct, same ABI
 * version) loads.
 */
START_TEST(test_bigger_struct_loads)
{
    add_plugin("bigger", "bigger");
    load_ok();
    ck_assert_uint_eq(vmc_plugin_count(h), 1);
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
    ck_assert_str_eq(vmc_plugin_name(vmc_plugin_get(h, 0)), "bigger");
}
END_TEST

/* Each broken plugin beside a good one: the broken one is refused with
 * its reason, the good one still loads.  ("broken" sorts before "good",
 * so broken plugins named "good" are checked first.)
 */
static const struct {
    const char *variant;
    const char *reason;
} broken[] = {
    { "no-init", "no vmc_plugin_init symbol: not a vmconv plugin" },
    { "init-null", "vmc_plugin_init returned NULL" },
    { "newer-abi", "built for plugin ABI version 2, newer than this "
      "vmconv's (1): upgrade vmconv" },
    { "tiny-struct", NULL },     /* message computed below */
    { "no-probe", "plugin 'good' has no probe callback" },
    { "no-read-write", "plugin 'good' has neither a read nor a write "
      "callback" },
    { "bad-name", "plugin name 'Bad Name' is not valid (use a-z, 0-9, "
      "'-' and '_', at most 32 characters)" },
    { "no-name", "the plugin has no name" },
    { "load-fails", "plugin 'good' failed to load: no licence for this "
      "plugin" },
    { "newer-model", NULL },     /* message computed below */
    { "model-zero", "VM model version 0 is not valid (not registered "
      "with VMC_REGISTER_PLUGIN?)" },
    { "bad-caps", "target capabilities: the default NIC model 'e1000' is "
      "not among those declared" },
};

START_TEST(test_broken_refused)
{
    char reason[256];
    const char *expect = broken[_i].reason;

    if (expect == NULL && strcmp(broken[_i].variant, "tiny-struct") == 0) {
        snprintf(reason, sizeof reason, "plugin struct is 8 bytes, smaller "
                 "than the %zu of ABI version 1 (not registered with "
                 "VMC_REGISTER_PLUGIN?)",
                 offsetof(struct vmc_plugin, write) + sizeof (void *));
        expect = reason;
    }
    else if (expect == NULL) {
        /* A plugin built against a vm.h whose structures grew. */
        snprintf(reason, sizeof reason, "built for a newer vmconv (VM "
                 "model %d, this one knows %d): upgrade vmconv",
                 VMC_VM_MODEL_VERSION + 1, VMC_VM_MODEL_VERSION);
        expect = reason;
    }
    add_plugin(broken[_i].variant, "broken");
    add_plugin("good", "good");
    load_ok();
    expect_refused("vmconv-broken.so", expect);
    ck_assert_uint_eq(vmc_plugin_count(h), 1);
    ck_assert_str_eq(vmc_plugin_name(vmc_plugin_get(h, 0)), "good");
    ck_assert_ptr_null(vmc_get_error(h));
}
END_TEST

START_TEST(test_text_file_refused)
{
    add_file("vmconv-notes.so", "this is not a plugin\n");
    load_ok();
    expect_refused("vmconv-notes.so", "not an ELF shared object");
    ck_assert_uint_eq(vmc_plugin_count(h), 0);
}
END_TEST

START_TEST(test_empty_file_refused)
{
    add_file("vmconv-empty.so", "");
    load_ok();
    expect_refused("vmconv-empty.so", "not an ELF shared object");
}
END_TEST

START_TEST(test_directory_refused)
{
    char sub[PATH_MAX + 16];

    snprintf(sub, sizeof sub, "%s/vmconv-dir.so", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    load_ok();
    expect_refused("vmconv-dir.so", "not a regular file");
}
END_TEST

/* An ELF file dlopen cannot load (this test's own executable). */
START_TEST(test_executable_refused)
{
    char cmd[PATH_MAX * 2];
    const char *r;

    snprintf(cmd, sizeof cmd, "cp /proc/%d/exe '%s/vmconv-exe.so'",
             (int) getpid(), dir);
    ck_assert_int_eq(system(cmd), 0);
    load_ok();
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 1);
    r = vmc_plugins_refused(h, 0);
    snprintf(cmd, sizeof cmd, "%s/vmconv-exe.so: plugin refused: dlopen: ",
             dir);
    if (strncmp(r, cmd, strlen(cmd)) != 0)
        ck_abort_msg("unexpected refusal: %s", r);
}
END_TEST

START_TEST(test_duplicate_name_refused)
{
    char reason[PATH_MAX + 64];

    add_plugin("twin1", "twin1");
    add_plugin("twin2", "twin2");
    load_ok();
    snprintf(reason, sizeof reason, "plugin name 'twin' is already taken "
             "by %s/vmconv-twin1.so", dir);
    expect_refused("vmconv-twin2.so", reason);
    ck_assert_uint_eq(vmc_plugin_count(h), 1);
    ck_assert_str_eq(vmc_plugin_file(vmc_plugin_get(h, 0)) + strlen(dir),
                     "/vmconv-twin1.so");
}
END_TEST

/* Only "*.so" files are considered, and not hidden ones. */
START_TEST(test_other_files_ignored)
{
    add_file("README", "plugins go here\n");
    add_file(".hidden.so", "x");
    add_file("vmconv-old.so.1", "x");
    add_file(".so", "x");
    load_ok();
    ck_assert_uint_eq(vmc_plugin_count(h), 0);
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
}
END_TEST

START_TEST(test_load_twice)
{
    char msg[PATH_MAX + 64];

    load_ok();
    ck_assert_int_eq(vmc_plugins_load(h, dir), -1);
    snprintf(msg, sizeof msg, "plugins are already loaded (from %s)", dir);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_missing_directory)
{
    char missing[PATH_MAX + 16];
    char msg[PATH_MAX + 64];

    snprintf(missing, sizeof missing, "%s/nope", dir);
    ck_assert_int_eq(vmc_plugins_load(h, missing), -1);
    snprintf(msg, sizeof msg, "plugin directory %s: No such file or directory",
             missing);
    ck_assert_str_eq(vmc_get_error(h), msg);
    /* A failed load leaves nothing behind: a second try works. */
    load_ok();
}
END_TEST

START_TEST(test_not_a_directory)
{
    char file[PATH_MAX + 16];
    char msg[PATH_MAX + 64];

    add_file("plain", "x");
    snprintf(file, sizeof file, "%s/plain", dir);
    ck_assert_int_eq(vmc_plugins_load(h, file), -1);
    snprintf(msg, sizeof msg, "plugin directory %s: Not a directory", file);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

/* "" would mean the current directory: refused. */
START_TEST(test_empty_directory_name)
{
    ck_assert_int_eq(vmc_plugins_load(h, ""), -1);
    ck_assert_str_eq(vmc_get_error(h), "plugin directory: the name is empty");
}
END_TEST

/* Without a directory, $VMCONV_PLUGIN_DIR is used, and the current
 * directory (holding a plugin here) is not searched.
 */
START_TEST(test_environment_directory)
{
    char sub[PATH_MAX + 16];

    snprintf(sub, sizeof sub, "%s/env", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    add_plugin("good", "good");
    ck_assert_int_eq(chdir(dir), 0);
    setenv("VMCONV_PLUGIN_DIR", sub, 1);
    ck_assert_int_eq(vmc_plugins_load(h, NULL), 0);
    ck_assert_str_eq(vmc_plugins_dir(h), sub);
    ck_assert_uint_eq(vmc_plugin_count(h), 0);
}
END_TEST

/* An explicit relative directory is resolved once, to an absolute one. */
START_TEST(test_relative_directory)
{
    char sub[PATH_MAX + 16];
    char file[PATH_MAX + 32];

    snprintf(sub, sizeof sub, "%s/rel", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_eq(chdir(dir), 0);
    add_plugin_in(sub, "good", "good");
    ck_assert_int_eq(vmc_plugins_load(h, "rel"), 0);
    ck_assert_str_eq(vmc_plugins_dir(h), sub);
    ck_assert_uint_eq(vmc_plugin_count(h), 1);
    snprintf(file, sizeof file, "%s/vmconv-good.so", sub);
    ck_assert_str_eq(vmc_plugin_file(vmc_plugin_get(h, 0)), file);
}
END_TEST

static void
make_source(char *path, size_t len)
{
    snprintf(path, len, "%s/source.cfg", dir);
    add_file("source.cfg", "whatever\n");
}

START_TEST(test_for_source_picks_best)
{
    char src[PATH_MAX + 16];
    struct vmc_loaded_plugin *p;
    struct vmc_vm *vm;

    add_plugin("claim-a", "a");
    add_plugin("claim-less", "less");
    add_plugin("good", "good");
    load_ok();
    make_source(src, sizeof src);
    p = vmc_plugin_for_source(h, src);
    if (p == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vmc_plugin_name(p), "claim-a");
    vm = vmc_plugin_read(h, p, src);
    ck_assert_ptr_nonnull(vm);
    ck_assert_str_eq(vm->name, "claim-a");
    ck_assert_str_eq(vm->source_plugin, "claim-a");
    ck_assert_str_eq(vm->source_path, src);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_for_source_tie)
{
    char src[PATH_MAX + 16];
    char msg[PATH_MAX + 128];

    add_plugin("claim-a", "a");
    add_plugin("claim-b", "b");
    add_plugin("claim-less", "less");
    load_ok();
    make_source(src, sizeof src);
    ck_assert_ptr_null(vmc_plugin_for_source(h, src));
    snprintf(msg, sizeof msg, "%s: the claim-a and claim-b plugins recognise "
             "this source equally (confidence 50): choose one", src);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_for_source_unrecognised)
{
    char src[PATH_MAX + 16];
    char msg[PATH_MAX + 128];

    add_plugin("good", "good");
    load_ok();
    make_source(src, sizeof src);
    ck_assert_ptr_null(vmc_plugin_for_source(h, src));
    snprintf(msg, sizeof msg, "%s: no plugin recognises this source", src);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_for_source_missing)
{
    char src[PATH_MAX + 16];
    char msg[PATH_MAX + 128];

    add_plugin("claim-a", "a");
    load_ok();
    snprintf(src, sizeof src, "%s/missing.vmx", dir);
    ck_assert_ptr_null(vmc_plugin_for_source(h, src));
    snprintf(msg, sizeof msg, "%s: No such file or directory", src);
    ck_assert_str_eq(vmc_get_error(h), msg);
}
END_TEST

START_TEST(test_write_needs_write_callback)
{
    add_plugin("good", "good");
    load_ok();
    ck_assert_int_eq(vmc_plugin_write(h, vmc_plugin_get(h, 0), NULL, dir,
                                      "x"), -1);
    ck_assert_str_eq(vmc_get_error(h),
                     "the good plugin cannot write VMs (it only reads)");
}
END_TEST

START_TEST(test_probe_xml_root)
{
    static const char plain[] =
        "<?xml version='1.0'?>\n<!-- a comment <domain> -->\n"
        "<!DOCTYPE x [ <!ENTITY a 'b'> ]>\n<domain type='kvm'>";
    static const char ovf[] = "<ovf:Envelope xmlns:ovf='x'>";
    static const unsigned char utf16le[] = {
        0xff, 0xfe, '<', 0, 'c', 0, 'o', 0, 'n', 0, 'f', 0, 'i', 0, 'g', 0,
        'u', 0, 'r', 0, 'a', 0, 't', 0, 'i', 0, 'o', 0, 'n', 0, '>', 0,
    };

    ck_assert(vmc_probe_xml_root(plain, strlen(plain), "domain"));
    ck_assert(!vmc_probe_xml_root(plain, strlen(plain), "dom"));
    ck_assert(!vmc_probe_xml_root(plain, strlen(plain), "domainx"));
    ck_assert(vmc_probe_xml_root(ovf, strlen(ovf), "Envelope"));
    ck_assert(vmc_probe_xml_root(ovf, strlen(ovf), "ovf:Envelope"));
    ck_assert(!vmc_probe_xml_root(ovf, strlen(ovf), "x:Envelope"));
    ck_assert(vmc_probe_xml_root(utf16le, sizeof utf16le, "configuration"));
    ck_assert(!vmc_probe_xml_root("<domain", 7, "domain"));  /* cut short */
    ck_assert(!vmc_probe_xml_root("<!-- <domain>", 13, "domain"));
    ck_assert(!vmc_probe_xml_root("", 0, "domain"));
    ck_assert(!vmc_probe_xml_root("config = 1", 10, "domain"));
}
END_TEST

START_TEST(test_probe_read_head)
{
    char path[PATH_MAX + 16];
    char buf[8];

    add_file("head", "0123456789");
    snprintf(path, sizeof path, "%s/head", dir);
    ck_assert_int_eq(vmc_probe_read_head(h, path, buf, sizeof buf), 8);
    ck_assert_int_eq(memcmp(buf, "01234567", 8), 0);
    ck_assert_int_eq(vmc_probe_read_head(h, dir, buf, sizeof buf), -1);
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(vmc_probe_read_head(h, path, buf, sizeof buf), -1);
    ck_assert_ptr_null(vmc_get_error(h));
}
END_TEST

/* ---- Version 2 callbacks, through tests/broken-plugins VARIANT_V2 --- */

static struct vmc_loaded_plugin *
load_v2(void)
{
    struct vmc_loaded_plugin *p;

    add_plugin("v2", "v2");
    load_ok();
    ck_assert_uint_eq(vmc_plugins_refused_count(h), 0);
    p = vmc_plugin_find(h, "v2");
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_v2_registration)
{
    struct vmc_loaded_plugin *p = load_v2();
    const struct vmc_target_caps *c = vmc_plugin_target_caps(p);

    ck_assert_uint_eq(vmc_plugin_model_version(p), VMC_VM_MODEL_VERSION);
    ck_assert(vmc_plugin_can_read(p));
    ck_assert(vmc_plugin_can_write(p));
    ck_assert(vmc_plugin_can_finish(p));
    ck_assert_str_eq(vmc_plugin_config_help(p),
                     "fail=MSG         read fails with MSG\n"
                     "fail-finish=MSG  finish fails with MSG");
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->_struct_size, sizeof *c);
    ck_assert(c->disk_buses == (VMC_CAP(VMC_DISK_BUS_VIRTIO) |
                                VMC_CAP(VMC_DISK_BUS_SATA)));
    ck_assert_int_eq(c->default_disk_bus, VMC_DISK_BUS_VIRTIO);
    ck_assert_int_eq(c->default_nic_model, VMC_NIC_MODEL_VIRTIO);
    ck_assert_int_eq(c->default_firmware, VMC_FIRMWARE_BIOS);
    ck_assert_str_eq(c->disk_formats[0].format, "qcow2");
    ck_assert_str_eq(c->disk_formats[0].subformats[0], "v3");
    ck_assert_str_eq(c->disk_formats[1].format, "raw");
    ck_assert_ptr_null(c->disk_formats[2].format);
}
END_TEST

/* probe2 gets the head and the tail of the file, read once by the core. */
START_TEST(test_v2_probe2_head_and_tail)
{
    struct vmc_loaded_plugin *p = load_v2();
    char path[PATH_MAX + 16];

    add_file("yes.src", "v2-source\nsome text\nend\n");
    add_file("no-tail.src", "v2-source\nsome text\n");
    add_file("no-head.src", "v1-source\nend\n");
    snprintf(path, sizeof path, "%s/yes.src", dir);
    ck_assert_int_eq(vmc_plugin_probe(h, p, path), 70);
    ck_assert_ptr_eq(vmc_plugin_for_source(h, path), p);
    snprintf(path, sizeof path, "%s/no-tail.src", dir);
    ck_assert_int_eq(vmc_plugin_probe(h, p, path), 0);
    snprintf(path, sizeof path, "%s/no-head.src", dir);
    ck_assert_int_eq(vmc_plugin_probe(h, p, path), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, p, dir), 0);
    ck_assert_int_eq(vmc_plugin_probe(h, p, "nbd://example.com/x"), 0);
    ck_assert_ptr_null(vmc_get_error(h));
}
END_TEST

/* read2 gets image flags (without RDWR), the work directory and the
 * parameters.
 */
START_TEST(test_v2_read_options_arrive)
{
    static const char *const params[] = { "a=1", "path=/x=y" };
    struct vmc_loaded_plugin *p = load_v2();
    struct vmc_read_options opts = {
        ._struct_size = sizeof opts,
        .image_flags = VMC_IMAGE_ALLOW_OUTSIDE | VMC_IMAGE_IGNORE_PARENT_ID |
                       VMC_IMAGE_RDWR,
        .workdir = dir,
        .nr_params = 2,
        .params = params,
    };
    char src[PATH_MAX + 16], note[PATH_MAX + 16];
    struct vmc_vm *vm;

    make_source(src, sizeof src);
    vm = vmc_plugin_read_opts(h, p, src, &opts);
    if (vm == NULL)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(vm->name, "v2");
    ck_assert_str_eq(vm->source_plugin, "v2");
    ck_assert_uint_eq(vm->nr_notes, 4);
    snprintf(note, sizeof note, "image_flags=%u",
             VMC_IMAGE_ALLOW_OUTSIDE | VMC_IMAGE_IGNORE_PARENT_ID);
    ck_assert_str_eq(vm->notes[0], note);
    snprintf(note, sizeof note, "workdir=%s", dir);
    ck_assert_str_eq(vm->notes[1], note);
    ck_assert_str_eq(vm->notes[2], "param=a=1");
    ck_assert_str_eq(vm->notes[3], "param=path=/x=y");
    vmc_vm_free(vm);
}
END_TEST

/* The flags (version 2 of the options) arrive; a caller built before
 * them (a version 1 struct) gives none, whatever lies past its end.
 */
START_TEST(test_v2_read_flags)
{
    struct vmc_loaded_plugin *p = load_v2();
    struct {
        struct vmc_read_options o;
        unsigned char past[64];
    } big;
    char src[PATH_MAX + 16];
    struct vmc_vm *vm;

    make_source(src, sizeof src);
    memset(&big, 0xff, sizeof big);
    big.o._struct_size = sizeof big.o;
    big.o.workdir = dir;
    big.o.nr_params = 0;
    big.o.params = NULL;
    big.o.image_flags = 0;
    big.o.flags = VMC_READ_DEFER_DIGESTS;
    vm = vmc_plugin_read_opts(h, p, src, &big.o);
    ck_assert_ptr_nonnull(vm);
    ck_assert_uint_eq(vm->nr_notes, 3);
    ck_assert_str_eq(vm->notes[2], "flags=1");
    vmc_vm_free(vm);

    big.o.flags = ~0u;
    big.o._struct_size = offsetof(struct vmc_read_options, params) +
        sizeof big.o.params;
    vm = vmc_plugin_read_opts(h, p, src, &big.o);
    ck_assert_ptr_nonnull(vm);
    ck_assert_uint_eq(vm->nr_notes, 2);     /* no flags */
    vmc_vm_free(vm);
}
END_TEST

/* Without options: no flags, $TMPDIR as the work directory. */
START_TEST(test_v2_read_default_options)
{
    struct vmc_loaded_plugin *p = load_v2();
    char src[PATH_MAX + 16], note[PATH_MAX + 16];
    struct vmc_vm *vm;

    setenv("TMPDIR", dir, 1);
    make_source(src, sizeof src);
    vm = vmc_plugin_read(h, p, src);
    unsetenv("TMPDIR");
    ck_assert_ptr_nonnull(vm);
    ck_assert_uint_eq(vm->nr_notes, 2);
    ck_assert_str_eq(vm->notes[0], "image_flags=0");
    snprintf(note, sizeof note, "workdir=%s", dir);
    ck_assert_str_eq(vm->notes[1], note);
    vmc_vm_free(vm);
}
END_TEST

START_TEST(test_read_params_checked)
{
    static const char *const bad[] = { "novalue" };
    static const char *const given[] = { "x=1" };
    struct vmc_read_options opts = {
        ._struct_size = sizeof opts, .nr_params = 1, .params = bad,
    };
    struct vmc_loaded_plugin *v2, *good;
    char src[PATH_MAX + 16], msg[PATH_MAX + 128];

    add_plugin("good", "good");
    v2 = load_v2();
    good = vmc_plugin_find(h, "good");
    make_source(src, sizeof src);
    ck_assert_ptr_null(vmc_plugin_read_opts(h, v2, src, &opts));
    snprintf(msg, sizeof msg, "%s: parameter 'novalue' is not key=value",
             src);
    ck_assert_str_eq(vmc_get_error(h), msg);
    /* A version 1 reader has no way to receive parameters. */
    opts.params = given;
    ck_assert_ptr_null(vmc_plugin_read_opts(h, good, src, &opts));
    snprintf(msg, sizeof msg, "%s: the good plugin takes no parameters "
             "('x=1' given)", src);
    ck_assert_str_eq(vmc_get_error(h), msg);
    /* A struct smaller than the first version is refused. */
    opts._struct_size = 4;
    ck_assert_ptr_null(vmc_plugin_read_opts(h, v2, src, &opts));
    ck_assert_ptr_nonnull(strstr(vmc_get_error(h), "_struct_size 4"));
}
END_TEST

/* Read a file written by the plugin into a static buffer. */
static const char *
slurp(const char *path)
{
    static char buf[4096];
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL)
        return NULL;
    n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* write gets the per-disk temporary and final paths, the URI and the
 * guest facts; finish runs only once OUTDIR is renamed to FINAL.
 */
START_TEST(test_v2_write_then_finish_after_rename)
{
    static const char *const tmp_paths[] = { "/t/tmp/d0.qcow2", NULL };
    static const char *const final_paths[] = { "/t/final/d0.qcow2", NULL };
    struct vmc_loaded_plugin *p;
    struct vmc_guest_info *g;
    struct vmc_vm *vm;
    char tmp[PATH_MAX + 16], final[PATH_MAX + 16], log[PATH_MAX + 16];
    char file[PATH_MAX + 32], msg[3 * PATH_MAX];
    struct vmc_write_options opts = { ._struct_size = sizeof opts };

    snprintf(log, sizeof log, "%s/calls.log", dir);
    setenv("VMCONV_TEST_PLUGIN_LOG", log, 1);
    p = load_v2();
    snprintf(tmp, sizeof tmp, "%s/.out.tmp", dir);
    snprintf(final, sizeof final, "%s/out", dir);
    ck_assert_int_eq(mkdir(tmp, 0755), 0);
    vm = vmc_vm_new(h);
    ck_assert_ptr_nonnull(vm);
    ck_assert_ptr_nonnull(vmc_vm_add_disk(vm));
    ck_assert_ptr_nonnull(vmc_vm_add_disk(vm));
    g = vmc_guest_info_new(h);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->_struct_size, sizeof *g);
    g->os_distro = strdup("fedora");
    opts.outdir = tmp;
    opts.final_outdir = final;
    opts.name = "web";
    opts.nr_disks = 2;
    opts.disk_tmp_paths = tmp_paths;
    opts.disk_final_paths = final_paths;
    opts.libvirt_uri = "qemu:///system";
    opts.guest = g;

    if (vmc_plugin_write_opts(h, p, vm, &opts) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    snprintf(file, sizeof file, "%s/web.conf", tmp);
    ck_assert_str_eq(slurp(file),
                     "disk /t/final/d0.qcow2 (now /t/tmp/d0.qcow2)\n"
                     "disk - (now -)\n"
                     "uri qemu:///system\n"
                     "guest fedora\n");

    /* Too early: the plugin's finish is not called. */
    ck_assert_int_eq(vmc_plugin_finish(h, p, vm, &opts), -1);
    snprintf(msg, sizeof msg, "%s: cannot finish the v2 output: No such "
             "file or directory", final);
    ck_assert_str_eq(vmc_get_error(h), msg);
    ck_assert_int_eq(mkdir(final, 0755), 0);
    ck_assert_int_eq(vmc_plugin_finish(h, p, vm, &opts), -1);
    snprintf(msg, sizeof msg, "%s: the v2 plugin's finish must run after "
             "the output was renamed to %s", tmp, final);
    ck_assert_str_eq(vmc_get_error(h), msg);
    ck_assert_int_eq(rmdir(final), 0);
    ck_assert_str_eq(slurp(log), "v2 load\n");

    ck_assert_int_eq(rename(tmp, final), 0);
    if (vmc_plugin_finish(h, p, vm, &opts) == -1)
        ck_abort_msg("%s", vmc_get_error(h));
    ck_assert_str_eq(slurp(log), "v2 load\nv2 finish found the files\n");
    vmc_guest_info_free(g);
    vmc_vm_free(vm);
}
END_TEST

/* A failing finish undoes its own work and its error reaches the
 * caller.
 */
START_TEST(test_v2_finish_failure)
{
    static const char *const params[] = { "fail-finish=define refused" };
    struct vmc_loaded_plugin *p;
    char out[PATH_MAX + 16], log[PATH_MAX + 16], msg[PATH_MAX + 64];
    struct vmc_write_options opts = { ._struct_size = sizeof opts };

    snprintf(log, sizeof log, "%s/calls.log", dir);
    setenv("VMCONV_TEST_PLUGIN_LOG", log, 1);
    p = load_v2();
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    opts.outdir = out;
    opts.name = "web";
    opts.nr_params = 1;
    opts.params = params;
    ck_assert_int_eq(vmc_plugin_write_opts(h, p, NULL, &opts), 0);
    ck_assert_int_eq(vmc_plugin_finish(h, p, NULL, &opts), -1);
    snprintf(msg, sizeof msg, "%s: v2: define refused", out);
    ck_assert_str_eq(vmc_get_error(h), msg);
    ck_assert_str_eq(slurp(log), "v2 load\nv2 finish found the files\n"
                     "v2 finish undone\n");
}
END_TEST

START_TEST(test_write_disk_paths_must_match)
{
    static const char *const paths[] = { "/a" };
    struct vmc_loaded_plugin *p = load_v2();
    struct vmc_vm *vm = vmc_vm_new(h);
    struct vmc_write_options opts = {
        ._struct_size = sizeof opts, .outdir = dir, .name = "x",
        .nr_disks = 1, .disk_tmp_paths = paths, .disk_final_paths = paths,
    };
    char msg[PATH_MAX + 64];

    ck_assert_int_eq(vmc_plugin_write_opts(h, p, vm, &opts), -1);
    snprintf(msg, sizeof msg, "%s: write options: 1 disk paths given for "
             "a VM with 0 disks", dir);
    ck_assert_str_eq(vmc_get_error(h), msg);
    vmc_vm_free(vm);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("plugin-load");
    TCase *tc = tcase_create("load");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_plugin_loads);
    tcase_add_test(tc, test_load_and_unload_callbacks);
    tcase_add_test(tc, test_bigger_struct_loads);
    tcase_add_loop_test(tc, test_broken_refused, 0,
                        sizeof broken / sizeof broken[0]);
    tcase_add_test(tc, test_text_file_refused);
    tcase_add_test(tc, test_empty_file_refused);
    tcase_add_test(tc, test_directory_refused);
    tcase_add_test(tc, test_executable_refused);
    tcase_add_test(tc, test_duplicate_name_refused);
    tcase_add_test(tc, test_other_files_ignored);
    tcase_add_test(tc, test_load_twice);
    tcase_add_test(tc, test_missing_directory);
    tcase_add_test(tc, test_not_a_directory);
    tcase_add_test(tc, test_empty_directory_name);
    tcase_add_test(tc, test_environment_directory);
    tcase_add_test(tc, test_relative_directory);
    tcase_add_test(tc, test_for_source_picks_best);
    tcase_add_test(tc, test_for_source_tie);
    tcase_add_test(tc, test_for_source_unrecognised);
    tcase_add_test(tc, test_for_source_missing);
    tcase_add_test(tc, test_write_needs_write_callback);
    tcase_add_test(tc, test_probe_xml_root);
    tcase_add_test(tc, test_probe_read_head);
    tcase_add_test(tc, test_v2_registration);
    tcase_add_test(tc, test_v2_probe2_head_and_tail);
    tcase_add_test(tc, test_v2_read_options_arrive);
    tcase_add_test(tc, test_v2_read_flags);
    tcase_add_test(tc, test_v2_read_default_options);
    tcase_add_test(tc, test_read_params_checked);
    tcase_add_test(tc, test_v2_write_then_finish_after_rename);
    tcase_add_test(tc, test_v2_finish_failure);
    tcase_add_test(tc, test_write_disk_paths_must_match);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
