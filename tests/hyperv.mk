# hyperv plugin tests: the .vmcx container reader alone, the 2012 R2 XML
# reader against the corpus
# (golden models) and hostile XML; an export folder with a VHDX and an
# AVHDX checkpoint chain.
TESTS += test-vmcx hyperv-xml.sh hyperv-export.sh hyperv-json.sh
EXTRA_DIST += hyperv-xml.sh hyperv-export.sh hyperv-json.sh data/hyperv hyperv-make-vmcx.py

# The .vmcx container reader alone: the corpus' .VMRS, a container built
# by the test, hostile, truncated and randomly damaged ones.
check_PROGRAMS += test-vmcx
test_vmcx_SOURCES = test-vmcx.c \
	$(top_srcdir)/plugins/hyperv/vmcx.c \
	$(top_srcdir)/plugins/hyperv/hv-tree.c \
	$(top_srcdir)/plugins/hyperv/hv.h
