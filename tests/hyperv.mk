# SPDX-License-Identifier: LGPL-2.1-or-later
# hyperv plugin tests: the .vmcx container reader alone; the 2012 R2 XML
# reader against the corpus (golden models) and hostile XML; export
# folders with a VHDX and an AVHDX checkpoint chain (XML and .vmcx); the
# JSON of samples/hyperv; the PowerShell script the target writes;
# conversions end to end.
TESTS += test-vmcx hyperv-xml.sh hyperv-export.sh hyperv-json.sh \
	hyperv-write.sh hyperv-ps1-syntax.sh hyperv-convert.sh
EXTRA_DIST += hyperv-xml.sh hyperv-export.sh hyperv-json.sh data/hyperv \
	hyperv-write.sh hyperv-ps1-syntax.sh hyperv-convert.sh \
	hyperv-ps1-check.py hyperv-make-vmcx.py

# The .vmcx container reader alone: the corpus' .VMRS, a container built
# by the test, hostile, truncated and randomly damaged ones.
check_PROGRAMS += test-vmcx
test_vmcx_SOURCES = test-vmcx.c \
	$(top_srcdir)/plugins/hyperv/vmcx.c \
	$(top_srcdir)/plugins/hyperv/hv-tree.c \
	$(top_srcdir)/plugins/hyperv/hv.h

# hyperv-write: a source or model written as a .ps1 (hyperv-write.sh).
check_PROGRAMS += hyperv-write
hyperv_write_SOURCES = hyperv-write.c
