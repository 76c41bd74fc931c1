# SPDX-License-Identifier: LGPL-2.1-or-later
# vpc driver sources (owned by the vpc driver)
libvmconv_internal_la_SOURCES += \
	formats/vpc-ondisk.h \
	formats/vpc-internal.h \
	formats/vpc.c \
	formats/vpc-parent.c \
	formats/vpc-write.c \
	formats/vpc-check.c
