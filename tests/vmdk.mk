# vmdk tests
TESTS += vmdk-corpus.sh
EXTRA_DIST += vmdk-corpus.sh
