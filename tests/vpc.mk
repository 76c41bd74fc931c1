# vpc tests
TESTS += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh
EXTRA_DIST += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh vpc-patch.py
