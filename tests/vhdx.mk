# vhdx tests
TESTS += vhdx-corpus.sh vhdx-hostile.sh vhdx-write.sh vhdx-diff.sh vhdx-log.sh \
	vhdx-check.sh \
	test-vhdx-overlay test-vhdx-write
check_PROGRAMS += test-vhdx-overlay test-vhdx-write
test_vhdx_overlay_SOURCES = test-vhdx-overlay.c
test_vhdx_write_SOURCES = test-vhdx-write.c
EXTRA_DIST += vhdx-corpus.sh vhdx-hostile.sh vhdx-write.sh vhdx-diff.sh \
	vhdx-log.sh vhdx-check.sh \
	vhdx-make-diff.py vhdx-patch.py
