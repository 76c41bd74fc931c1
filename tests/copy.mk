# SPDX-License-Identifier: LGPL-2.1-or-later
# The copy engine and the vmconv disk command.
TESTS += disk-cli.sh
EXTRA_DIST += disk-cli.sh

# The full input x output matrix against qemu-img.
MATRIX_TESTS = \
	matrix-from-raw.sh \
	matrix-from-qcow2.sh \
	matrix-from-qcow2-v2.sh \
	matrix-from-qcow2-c.sh \
	matrix-from-qcow2-zstd.sh \
	matrix-from-vmdk.sh \
	matrix-from-vmdk-stream.sh \
	matrix-from-vmdk-flat.sh \
	matrix-from-vmdk-2gb.sh \
	matrix-from-vhdx.sh \
	matrix-from-vhdx-fixed.sh \
	matrix-from-vpc.sh \
	matrix-from-vpc-fixed.sh
TESTS += $(MATRIX_TESTS)
EXTRA_DIST += matrix.sh $(MATRIX_TESTS)

# Every corpus image through the command, against qemu-img's reading.
TESTS += corpus-cli.sh
EXTRA_DIST += corpus-cli.sh

TESTS += test-copy-engine
check_PROGRAMS += test-copy-engine
test_copy_engine_SOURCES = test-copy-engine.c

# The quick start's sample conversion.
TESTS += sample-demo.sh
EXTRA_DIST += sample-demo.sh

# The source and every file it refers to stay read-only and unchanged.
TESTS += source-readonly.sh
EXTRA_DIST += source-readonly.sh

# Interrupted conversions leave nothing behind.
TESTS += disk-interrupt.sh
EXTRA_DIST += disk-interrupt.sh

# The disk job, events, error kinds and the output directory policy.
TESTS += test-disk-job
check_PROGRAMS += test-disk-job
test_disk_job_SOURCES = test-disk-job.c

# --machine-readable events and terminal-safe disk info.
TESTS += disk-events.sh
EXTRA_DIST += disk-events.sh
