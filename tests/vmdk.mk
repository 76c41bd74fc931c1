# vmdk tests
TESTS += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh vmdk-esx.sh
EXTRA_DIST += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh vmdk-esx.sh vmdk-make-esx.py
TESTS += test-vmdk-write
check_PROGRAMS += test-vmdk-write
test_vmdk_write_SOURCES = test-vmdk-write.c
