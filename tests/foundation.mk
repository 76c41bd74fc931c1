# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of the VM model, the plugin loader, the plugins and the
# plugins / inspect / convert commands.

# The VM model and its JSON form (internal library: no plugins).
TESTS += test-vm-model test-vm-json test-vm-fields test-vm-check
check_PROGRAMS += test-vm-model test-vm-json test-vm-fields test-vm-check
test_vm_model_SOURCES = test-vm-model.c
test_vm_json_SOURCES = test-vm-json.c
test_vm_check_SOURCES = test-vm-check.c
# The field table test also checks the human print: it links the
# printer of the command.
test_vm_fields_SOURCES = test-vm-fields.c testlib-print.c testlib.c testlib.h
CLEANFILES += *.actual

# Plugins for the loader tests, each tests/broken-plugins/broken.c built
# with one VARIANT_*: broken in one way (the loader must refuse them) or
# good.  -rpath makes libtool build real shared objects.
TEST_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += \
	vmconv-test-good.la \
	vmconv-test-bigger.la \
	vmconv-test-no-init.la \
	vmconv-test-init-null.la \
	vmconv-test-newer-abi.la \
	vmconv-test-tiny-struct.la \
	vmconv-test-no-probe.la \
	vmconv-test-no-read-write.la \
	vmconv-test-bad-name.la \
	vmconv-test-no-name.la \
	vmconv-test-load-fails.la \
	vmconv-test-twin1.la \
	vmconv-test-twin2.la \
	vmconv-test-claim-a.la \
	vmconv-test-claim-b.la \
	vmconv-test-claim-less.la \
	vmconv-test-newer-model.la \
	vmconv-test-model-zero.la \
	vmconv-test-bad-caps.la \
	vmconv-test-v2.la
vmconv_test_good_la_SOURCES = broken-plugins/broken.c
vmconv_test_good_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_GOOD
vmconv_test_good_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_bigger_la_SOURCES = broken-plugins/broken.c
vmconv_test_bigger_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_BIGGER
vmconv_test_bigger_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_no_init_la_SOURCES = broken-plugins/broken.c
vmconv_test_no_init_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NO_INIT
vmconv_test_no_init_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_init_null_la_SOURCES = broken-plugins/broken.c
vmconv_test_init_null_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_INIT_NULL
vmconv_test_init_null_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_newer_abi_la_SOURCES = broken-plugins/broken.c
vmconv_test_newer_abi_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NEWER_ABI
vmconv_test_newer_abi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_tiny_struct_la_SOURCES = broken-plugins/broken.c
vmconv_test_tiny_struct_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_TINY_STRUCT
vmconv_test_tiny_struct_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_no_probe_la_SOURCES = broken-plugins/broken.c
vmconv_test_no_probe_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NO_PROBE
vmconv_test_no_probe_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_no_read_write_la_SOURCES = broken-plugins/broken.c
vmconv_test_no_read_write_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NO_READ_WRITE
vmconv_test_no_read_write_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_bad_name_la_SOURCES = broken-plugins/broken.c
vmconv_test_bad_name_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_BAD_NAME
vmconv_test_bad_name_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_no_name_la_SOURCES = broken-plugins/broken.c
vmconv_test_no_name_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NO_NAME
vmconv_test_no_name_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_load_fails_la_SOURCES = broken-plugins/broken.c
vmconv_test_load_fails_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_LOAD_FAILS
vmconv_test_load_fails_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_twin1_la_SOURCES = broken-plugins/broken.c
vmconv_test_twin1_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_TWIN1
vmconv_test_twin1_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_twin2_la_SOURCES = broken-plugins/broken.c
vmconv_test_twin2_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_TWIN2
vmconv_test_twin2_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_claim_a_la_SOURCES = broken-plugins/broken.c
vmconv_test_claim_a_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_CLAIM_A
vmconv_test_claim_a_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_claim_b_la_SOURCES = broken-plugins/broken.c
vmconv_test_claim_b_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_CLAIM_B
vmconv_test_claim_b_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_claim_less_la_SOURCES = broken-plugins/broken.c
vmconv_test_claim_less_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_CLAIM_LESS
vmconv_test_claim_less_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_newer_model_la_SOURCES = broken-plugins/broken.c
vmconv_test_newer_model_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_NEWER_MODEL
vmconv_test_newer_model_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_model_zero_la_SOURCES = broken-plugins/broken.c
vmconv_test_model_zero_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_MODEL_ZERO
vmconv_test_model_zero_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_bad_caps_la_SOURCES = broken-plugins/broken.c
vmconv_test_bad_caps_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_BAD_CAPS
vmconv_test_bad_caps_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_test_v2_la_SOURCES = broken-plugins/broken.c
vmconv_test_v2_la_CPPFLAGS = $(AM_CPPFLAGS) -DVARIANT_V2
vmconv_test_v2_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# The loader.  Linked with the shared libvmconv: plugins resolve their
# vmc_* calls against it, as they do in the vmconv command.
TESTS += test-plugin-load
check_PROGRAMS += test-plugin-load
test_plugin_load_SOURCES = test-plugin-load.c
test_plugin_load_LDADD = $(top_builddir)/libvmconv.la $(CHECK_LIBS)

# The example plugin, through the loader.
TESTS += test-plugin-example
check_PROGRAMS += test-plugin-example
test_plugin_example_SOURCES = test-plugin-example.c
test_plugin_example_LDADD = $(top_builddir)/libvmconv.la $(CHECK_LIBS)

# The commands, with the plugins of the build tree (VMCONV_PLUGIN_DIR,
# filled by plugins/Makefile.am).
TESTS += plugins-list.sh plugins-dir.sh plugins-inspect.sh plugins-convert.sh \
	plugins-caps.sh
EXTRA_DIST += plugins-list.sh plugins-dir.sh plugins-inspect.sh \
	plugins-convert.sh plugins-caps.sh

# Golden files (tests/expected/, compare_golden in functions.sh) of the
# model's outputs.  vm-print-json prints a JSON model as inspect does.
check_PROGRAMS += vm-print-json
vm_print_json_SOURCES = vm-print-json.c testlib-print.c
TESTS += vm-golden.sh
EXTRA_DIST += vm-golden.sh expected data/vm README.md

# The frozen-ABI test (nbdkit's tests/old-plugins): a plugin built
# against the kept copy of the version 1 headers, never include/ (the
# per-target CPPFLAGS replace AM_CPPFLAGS), loaded by today's library.
# -guard ends its struct at an inaccessible page.
check_LTLIBRARIES += vmconv-old-v1.la vmconv-old-v1-guard.la
OLD_V1_CPPFLAGS = -I$(srcdir)/old-plugins/v1/include
vmconv_old_v1_la_SOURCES = old-plugins/v1/old-v1.c
vmconv_old_v1_la_CPPFLAGS = $(OLD_V1_CPPFLAGS)
vmconv_old_v1_la_CFLAGS = $(WARN_CFLAGS)
vmconv_old_v1_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
vmconv_old_v1_guard_la_SOURCES = old-plugins/v1/old-v1.c
vmconv_old_v1_guard_la_CPPFLAGS = $(OLD_V1_CPPFLAGS) -DOLD_GUARD_PAGE
vmconv_old_v1_guard_la_CFLAGS = $(WARN_CFLAGS)
vmconv_old_v1_guard_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
EXTRA_DIST += \
	old-plugins/v1/include/vmconv/vmconv.h \
	old-plugins/v1/include/vmconv/vm.h \
	old-plugins/v1/include/vmconv/plugin.h

TESTS += test-plugin-old old-plugins-valgrind.sh
check_PROGRAMS += test-plugin-old
test_plugin_old_SOURCES = test-plugin-old.c
test_plugin_old_LDADD = $(top_builddir)/libvmconv.la $(CHECK_LIBS)
EXTRA_DIST += old-plugins-valgrind.sh

# Plugins are linked against libvmconv (-z defs): a program that
# dlopens libvmconv RTLD_LOCAL can load them.  The helper program is
# not linked with libvmconv.
TESTS += plugins-rtld-local.sh plugins-out-of-tree.sh
check_PROGRAMS += test-plugin-rtld-local
test_plugin_rtld_local_SOURCES = test-plugin-rtld-local.c
test_plugin_rtld_local_LDADD =
EXTRA_DIST += plugins-rtld-local.sh plugins-out-of-tree.sh
