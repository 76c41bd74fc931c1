# SPDX-License-Identifier: LGPL-2.1-or-later
# VM model, plugin loader and the commands built on them.
libvmconv_internal_la_SOURCES += \
	core/vm-internal.h \
	core/vm.c \
	core/vm-json.c \
	core/vm-check.c \
	core/plugin.c
vmconv_SOURCES += \
	core/cli/vm-print.h \
	core/cli/vm-print.c \
	core/cli/plugin-choice.c \
	core/cli/plugins.c \
	core/cli/inspect.c \
	core/cli/convert.c

# vmconv-vm-json(5): the JSON schema of the VM model.
man5_MANS = vmconv-vm-json.5
vmconv-vm-json.5: core/vmconv-vm-json.pod
	$(AM_V_GEN)$(POD2MAN) --section=5 --center="vmconv" \
	    --release="vmconv $(PACKAGE_VERSION)" --name=VMCONV-VM-JSON \
	    $< > $@-t && mv $@-t $@
dist_noinst_DATA = core/vmconv-vm-json.pod
MOSTLYCLEANFILES = vmconv-vm-json.5
