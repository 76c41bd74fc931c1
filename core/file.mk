# SPDX-License-Identifier: LGPL-2.1-or-later
# The byte-source layer under formats/: local files, byte ranges of
# another file, and NBD exports (through libnbd, when configure finds
# it; without it, file.c refuses NBD URIs).  libnbd is dlopen'ed on
# first use, not linked (see file-nbd.c): only its headers are needed.
libvmconv_internal_la_SOURCES += \
	core/file.h \
	core/file.c \
	core/file-posix.c \
	core/file-range.c \
	core/file-concat.c \
	core/file-gzip.c
if HAVE_LIBNBD
libvmconv_internal_la_SOURCES += core/file-nbd.c
libvmconv_internal_la_CFLAGS += $(LIBNBD_CFLAGS)
endif
