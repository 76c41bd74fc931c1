# The copy engine and the vmconv disk command.
TESTS += disk-cli.sh
EXTRA_DIST += disk-cli.sh
