# SPDX-License-Identifier: LGPL-2.1-or-later
# The conversion pipeline (vmconv convert): read, plan, disks, guest
# fix, write, verify, commit, finish, report.
vmconvinclude_HEADERS += include/vmconv/pipeline.h
libvmconv_internal_la_SOURCES += \
	core/pipeline-internal.h \
	core/pipeline.c \
	core/plan.c \
	core/pipeline-digest.c \
	core/verify.c \
	core/disk-source.c
vmconv_SOURCES += \
	core/cli/convert-print.h \
	core/cli/convert-print.c

# vmconv-convert-json(5): the plan and report document of vmconv convert.
man5_MANS += vmconv-convert-json.5
vmconv-convert-json.5: core/vmconv-convert-json.pod
	$(AM_V_GEN)$(POD2MAN) --section=5 --center="vmconv" \
	    --release="vmconv $(PACKAGE_VERSION)" --name=VMCONV-CONVERT-JSON \
	    $< > $@-t && mv $@-t $@
dist_noinst_DATA += core/vmconv-convert-json.pod
MOSTLYCLEANFILES += vmconv-convert-json.5
