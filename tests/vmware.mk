# SPDX-License-Identifier: LGPL-2.1-or-later
# vmware plugin tests: the .vmx parser alone, the reader against the
# corpus (golden models), hostile .vmx files, found disks and chains,
# and the .vmx writer's round trip.
TESTS += test-vmx-parse vmware-vmx.sh vmware-hostile.sh vmware-disks.sh \
	vmware-roundtrip.sh
EXTRA_DIST += vmware-vmx.sh vmware-hostile.sh vmware-disks.sh \
	vmware-roundtrip.sh
check_PROGRAMS += test-vmx-parse
test_vmx_parse_SOURCES = test-vmx-parse.c \
	$(top_srcdir)/plugins/vmware/vmx-parse.c \
	$(top_srcdir)/plugins/vmware/vmx-parse.h

# vmx-roundtrip: .vmx -> model -> .vmx -> model (vmware-roundtrip.sh).
check_PROGRAMS += vmx-roundtrip
vmx_roundtrip_SOURCES = vmx-roundtrip.c
