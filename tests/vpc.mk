# vpc tests
TESTS += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh vpc-diff.sh \
	vpc-check.sh
EXTRA_DIST += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-qemu.sh vpc-diff.sh vpc-check.sh \
	vpc-patch.py vpc-make-diff.py
