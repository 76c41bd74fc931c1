# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for plugins (include/vmconv/util.h): files, UTF-16, foreign
# names, value parsing, safe XML, manifest digests.
vmconvinclude_HEADERS += include/vmconv/util.h
libvmconv_internal_la_SOURCES += \
	core/foreign.c \
	core/xml.c \
	core/digest.c
