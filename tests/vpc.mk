# vpc tests
TESTS += vpc-corpus.sh
EXTRA_DIST += vpc-corpus.sh
