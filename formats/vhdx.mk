# SPDX-License-Identifier: LGPL-2.1-or-later
# vhdx driver sources (owned by the vhdx driver)
libvmconv_internal_la_SOURCES += \
	formats/vhdx.c \
	formats/vhdx-create.c \
	formats/vhdx-internal.h \
	formats/vhdx-log.c \
	formats/vhdx-ondisk.h \
	formats/vhdx-parent.c
