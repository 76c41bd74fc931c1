# SPDX-License-Identifier: LGPL-2.1-or-later
# common/: a convenience library for plugins (cleanup attributes, XML
# writer macros).  Linked statically into the plugins that use it; no
# ABI promise, not installed.
noinst_LTLIBRARIES += common/libvmconv-common.la
common_libvmconv_common_la_SOURCES = \
	common/cleanup.h \
	common/cleanup.c \
	common/cleanup-xml.c \
	common/kvm-host.h \
	common/kvm-host.c \
	common/xml-writer.h
common_libvmconv_common_la_CPPFLAGS = -I$(top_srcdir)/include
# Hidden: the plugins that link it export only vmc_plugin_init.
common_libvmconv_common_la_CFLAGS = $(WARN_CFLAGS) -fvisibility=hidden \
	$(LIBXML2_CFLAGS)
common_libvmconv_common_la_LIBADD = $(LIBXML2_LIBS)
