# vpc tests
TESTS += vpc-corpus.sh vpc-hostile.sh
EXTRA_DIST += vpc-corpus.sh vpc-hostile.sh vpc-patch.py
