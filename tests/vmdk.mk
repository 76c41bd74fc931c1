# vmdk tests
TESTS += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh
EXTRA_DIST += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh
TESTS += test-vmdk-write
check_PROGRAMS += test-vmdk-write
test_vmdk_write_SOURCES = test-vmdk-write.c
