# SPDX-License-Identifier: LGPL-2.1-or-later
# Mutation fuzzing of every format driver: fuzz-formats.sh prepares
# seed images and runs test-fuzz-formats on them (about half a minute).
TESTS += fuzz-formats.sh
check_PROGRAMS += test-fuzz-formats
test_fuzz_formats_SOURCES = test-fuzz-formats.c
EXTRA_DIST += fuzz-formats.sh data/fuzz

# Mutants kept by a failing run.
clean-local: clean-local-fuzz
clean-local-fuzz:
	-rm -rf fuzz-failures
.PHONY: clean-local-fuzz
