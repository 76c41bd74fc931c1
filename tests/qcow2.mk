# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 tests
TESTS += qcow2-corpus.sh qcow2-qemu.sh qcow2-hostile.sh qcow2-write.sh qcow2-check.sh
EXTRA_DIST += qcow2-corpus.sh qcow2-qemu.sh qcow2-hostile.sh qcow2-write.sh qcow2-check.sh
TESTS += test-qcow2-write
check_PROGRAMS += test-qcow2-write
test_qcow2_write_SOURCES = test-qcow2-write.c
TESTS += test-qcow2-compress
check_PROGRAMS += test-qcow2-compress
test_qcow2_compress_SOURCES = test-qcow2-compress.c
TESTS += test-qcow2-read
check_PROGRAMS += test-qcow2-read
test_qcow2_read_SOURCES = test-qcow2-read.c
