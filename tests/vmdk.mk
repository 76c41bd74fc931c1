# vmdk tests
TESTS += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh
EXTRA_DIST += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh
