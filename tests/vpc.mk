# vpc tests
TESTS += vpc-corpus.sh vpc-hostile.sh vpc-write.sh
EXTRA_DIST += vpc-corpus.sh vpc-hostile.sh vpc-write.sh vpc-patch.py
