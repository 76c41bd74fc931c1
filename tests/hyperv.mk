# hyperv plugin tests: the 2012 R2 XML reader against the corpus
# (golden models) and hostile XML; an export folder with a VHDX and an
# AVHDX checkpoint chain.
TESTS += hyperv-xml.sh hyperv-export.sh
EXTRA_DIST += hyperv-xml.sh hyperv-export.sh
