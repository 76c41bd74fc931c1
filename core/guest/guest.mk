# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest conversion (issue 16): inspection of the guest on the source
# disks, served by nbdkit (our plugin under the cow filter) to a
# libguestfs appliance.  Without libguestfs, guest.c reports that the
# guest cannot be inspected.
vmconvinclude_HEADERS += include/vmconv/guest.h
libvmconv_internal_la_SOURCES += \
	core/guest/guest.h \
	core/guest/guest.c \
	core/guest/nbdkit.c \
	core/guest/initrd.c
if HAVE_LIBGUESTFS
libvmconv_internal_la_SOURCES += \
	core/guest/appliance.c \
	core/guest/inspect.c
libvmconv_internal_la_CFLAGS += $(LIBGUESTFS_CFLAGS)
libvmconv_internal_la_LIBADD += $(LIBGUESTFS_LIBS)
endif
# The installed nbdkit plugin, which the guest step runs unless
# $VMCONV_NBDKIT_PLUGIN names another.
libvmconv_internal_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DNBDKIT_VMCONV_PLUGIN='"$(nbdkitplugindir)/nbdkit-vmconv-plugin.so"'
vmconv_SOURCES += \
	core/cli/guest-print.h \
	core/cli/guest-print.c
