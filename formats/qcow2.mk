# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 driver sources (owned by the qcow2 driver)
libvmconv_internal_la_SOURCES += \
	formats/qcow2.c \
	formats/qcow2-compress.c \
	formats/qcow2-internal.h \
	formats/qcow2-ondisk.h
libvmconv_internal_la_SOURCES += formats/qcow2-write.c
libvmconv_internal_la_SOURCES += formats/qcow2-check.c
