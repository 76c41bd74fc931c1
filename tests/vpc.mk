# SPDX-License-Identifier: LGPL-2.1-or-later
# vpc tests
TESTS += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh vpc-diff.sh \
	vpc-check.sh vpc-info.sh test-vpc-geometry test-vpc-threads
check_PROGRAMS += test-vpc-geometry test-vpc-threads
test_vpc_geometry_SOURCES = test-vpc-geometry.c
test_vpc_threads_SOURCES = test-vpc-threads.c
EXTRA_DIST += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh \
	vpc-diff.sh vpc-check.sh vpc-info.sh vpc-patch.py vpc-make-diff.py
