# The byte-source layer (core/file*.c): byte ranges, local files, NBD;
# and the formats' files read through it (qcow2 external data files).
TESTS += qcow2-data-file.sh
EXTRA_DIST += qcow2-data-file.sh
