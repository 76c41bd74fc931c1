# SPDX-License-Identifier: LGPL-2.1-or-later
# vmdk driver sources (owned by the vmdk driver)
libvmconv_internal_la_SOURCES += \
	formats/vmdk.c \
	formats/vmdk-internal.h \
	formats/vmdk-ondisk.h \
	formats/vmdk-descriptor.c \
	formats/vmdk-sparse.c \
	formats/vmdk-check.c \
	formats/vmdk-write.c
