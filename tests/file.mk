# SPDX-License-Identifier: LGPL-2.1-or-later
# The byte-source layer (core/file*.c): byte ranges, local files, NBD,
# concatenations and gzip data;
# and the formats' files read through it (qcow2 external data files).
TESTS += test-file-layer test-file-concat-gzip file-range.sh file-nbd.sh qcow2-data-file.sh
EXTRA_DIST += file-range.sh file-nbd.sh qcow2-data-file.sh
check_PROGRAMS += test-file-layer test-file-concat-gzip
test_file_layer_SOURCES = test-file-layer.c
test_file_concat_gzip_SOURCES = test-file-concat-gzip.c
