# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest conversion (issue 16): inspection of the guest on the source
# disks, served by nbdkit (our plugin under the cow filter) to a
# libguestfs appliance.  libvmconv holds the entry points (guest.c)
# and nbdkit's start and stop (nbdkit.c); what calls libguestfs is the
# module vmconv-guestfs.so ($libdir/vmconv/), loaded on first use, so
# that libvmconv itself does not link libguestfs and the sixty
# libraries behind it.  Without libguestfs, guest.c reports that the
# guest cannot be inspected.
vmconvinclude_HEADERS += include/vmconv/guest.h
libvmconv_internal_la_SOURCES += \
	core/guest/guest.h \
	core/guest/guest.c \
	core/guest/nbdkit.c
# The installed nbdkit plugin, which the guest step runs unless
# $VMCONV_NBDKIT_PLUGIN names another; the libguestfs module, unless
# $VMCONV_GUESTFS_MODULE names another.
libvmconv_internal_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DNBDKIT_VMCONV_PLUGIN='"$(nbdkitplugindir)/nbdkit-vmconv-plugin.so"' \
	-DVMC_GUESTFS_MODULE_PATH='"$(pkglibdir)/vmconv-guestfs.so"'

if HAVE_LIBGUESTFS
pkglib_LTLIBRARIES = vmconv-guestfs.la
vmconv_guestfs_la_SOURCES = \
	core/guest/guest.h \
	core/guest/guestfs-module.c \
	core/guest/appliance.c \
	core/guest/inspect.c \
	core/guest/initrd.c \
	core/guest/initrd-compress.c \
	core/guest/fix.c \
	core/guest/initramfs.c \
	core/guest/devnames.c \
	core/guest/tools.c \
	core/guest/network.c \
	core/guest/boot.c
# common/ first: its cleanup.h (the plugins' one) is what a module that
# sees only the public API uses.
vmconv_guestfs_la_CPPFLAGS = -DVMC_GUESTFS_MODULE \
	-I$(top_srcdir)/common -I$(top_builddir)/include \
	-I$(top_srcdir)/include -I$(top_srcdir)/core/guest
vmconv_guestfs_la_CFLAGS = $(WARN_CFLAGS) -pthread -fvisibility=hidden \
	$(LIBGUESTFS_CFLAGS) $(JSONC_CFLAGS) $(LIBARCHIVE_CFLAGS) \
	$(ZSTD_CFLAGS) $(LIBDEFLATE_CFLAGS)
vmconv_guestfs_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,defs \
	-export-symbols-regex '^vmc_guestfs_ops$$'
vmconv_guestfs_la_LIBADD = libvmconv.la common/libvmconv-common.la \
	$(LIBGUESTFS_LIBS) $(JSONC_LIBS) $(LIBARCHIVE_LIBS) $(ZSTD_LIBS) \
	$(LIBDEFLATE_LIBS)
endif

vmconv_SOURCES += \
	core/cli/guest-print.h \
	core/cli/guest-print.c
