# vhdx tests
TESTS += vhdx-corpus.sh vhdx-hostile.sh
EXTRA_DIST += vhdx-corpus.sh vhdx-hostile.sh vhdx-make-diff.py vhdx-patch.py
