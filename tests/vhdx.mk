# vhdx tests
TESTS += vhdx-corpus.sh
EXTRA_DIST += vhdx-corpus.sh vhdx-make-diff.py vhdx-patch.py
