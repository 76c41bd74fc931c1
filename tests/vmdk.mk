# SPDX-License-Identifier: LGPL-2.1-or-later
# vmdk tests
TESTS += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh vmdk-esx.sh vmdk-check.sh vmdk-sesparse.sh
EXTRA_DIST += vmdk-corpus.sh vmdk-qemu.sh vmdk-hostile.sh vmdk-delta.sh \
	vmdk-write.sh vmdk-esx.sh vmdk-check.sh vmdk-make-esx.py \
	vmdk-sesparse.sh vmdk-make-sesparse.py
TESTS += test-vmdk-write test-vmdk-descriptor
check_PROGRAMS += test-vmdk-write test-vmdk-descriptor
test_vmdk_write_SOURCES = test-vmdk-write.c
test_vmdk_descriptor_SOURCES = test-vmdk-descriptor.c
