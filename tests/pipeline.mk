# SPDX-License-Identifier: LGPL-2.1-or-later
# vmconv convert: the conversion pipeline end to end.
TESTS += \
	convert-disk.sh \
	convert-devices.sh \
	convert-dry-run.sh \
	convert-interrupt.sh \
	convert-full.sh \
	convert-verify.sh
EXTRA_DIST += \
	convert-disk.sh \
	convert-devices.sh \
	convert-dry-run.sh \
	convert-interrupt.sh \
	convert-full.sh \
	convert-verify.sh

TESTS += test-pipeline
check_PROGRAMS += test-pipeline
test_pipeline_SOURCES = test-pipeline.c
