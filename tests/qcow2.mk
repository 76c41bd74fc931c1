# qcow2 tests
TESTS += qcow2-corpus.sh qcow2-qemu.sh qcow2-hostile.sh
EXTRA_DIST += qcow2-corpus.sh qcow2-qemu.sh qcow2-hostile.sh
