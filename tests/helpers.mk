# The public helpers for plugins (include/vmconv/util.h).
TESTS += test-helpers
check_PROGRAMS += test-helpers
test_helpers_SOURCES = test-helpers.c
test_helpers_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
test_helpers_LDADD = $(LDADD) $(LIBXML2_LIBS)
