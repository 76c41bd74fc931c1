# SPDX-License-Identifier: LGPL-2.1-or-later
# The public helpers for plugins (include/vmconv/util.h).
TESTS += test-helpers
check_PROGRAMS += test-helpers
test_helpers_SOURCES = test-helpers.c
test_helpers_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
test_helpers_LDADD = $(LDADD) $(LIBXML2_LIBS)

# common/, the convenience library for plugins, used as plugins use it.
TESTS += test-common
check_PROGRAMS += test-common
test_common_SOURCES = test-common.c
test_common_CPPFLAGS = -I$(top_srcdir)/include -I$(top_srcdir)
test_common_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
test_common_LDADD = $(top_builddir)/common/libvmconv-common.la $(LDADD) \
	$(LIBXML2_LIBS)
