# SPDX-License-Identifier: LGPL-2.1-or-later
# Core tests and the test helpers every area uses.
check_PROGRAMS += imgtool
imgtool_SOURCES = imgtool.c

TESTS += test-core-util
check_PROGRAMS += test-core-util
test_core_util_SOURCES = test-core-util.c

TESTS += public-headers.sh
EXTRA_DIST += public-headers.sh

TESTS += exported-symbols.sh
EXTRA_DIST += exported-symbols.sh
