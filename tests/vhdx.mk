# SPDX-License-Identifier: LGPL-2.1-or-later
# vhdx tests
TESTS += vhdx-corpus.sh vhdx-hostile.sh vhdx-write.sh vhdx-diff.sh vhdx-log.sh \
	vhdx-check.sh \
	test-vhdx-overlay test-vhdx-write test-vhdx-diff
check_PROGRAMS += test-vhdx-overlay test-vhdx-write test-vhdx-diff
test_vhdx_overlay_SOURCES = test-vhdx-overlay.c
test_vhdx_write_SOURCES = test-vhdx-write.c
test_vhdx_diff_SOURCES = test-vhdx-diff.c
EXTRA_DIST += vhdx-corpus.sh vhdx-hostile.sh vhdx-write.sh vhdx-diff.sh \
	vhdx-log.sh vhdx-check.sh \
	vhdx-make-diff.py vhdx-patch.py
