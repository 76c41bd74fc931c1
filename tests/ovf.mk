# SPDX-License-Identifier: LGPL-2.1-or-later
# The vmware plugin's OVF and OVA reader and OVA writer.
TESTS += ovf-golden.sh ova.sh ova-chunks.sh ova-digest.sh ovf-hostile.sh \
	test-ova-write
EXTRA_DIST += ovf-golden.sh ova.sh ova-chunks.sh ova-digest.sh ovf-hostile.sh
check_PROGRAMS += test-ova-write
test_ova_write_SOURCES = test-ova-write.c
