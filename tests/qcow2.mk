# qcow2 tests
TESTS += qcow2-corpus.sh qcow2-qemu.sh
EXTRA_DIST += qcow2-corpus.sh qcow2-qemu.sh
