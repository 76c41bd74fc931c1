# SPDX-License-Identifier: LGPL-2.1-or-later
# The byte-source layer (core/file*.c): byte ranges, local files, NBD;
# and the formats' files read through it (qcow2 external data files).
TESTS += test-file-layer file-range.sh file-nbd.sh qcow2-data-file.sh
EXTRA_DIST += file-range.sh file-nbd.sh qcow2-data-file.sh
check_PROGRAMS += test-file-layer
test_file_layer_SOURCES = test-file-layer.c
