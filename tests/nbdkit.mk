# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-vmconv-plugin (nbdkit/): each test skips when nbdkit is not
# installed or the plugin was not built.
TESTS += \
	nbdkit-formats.sh \
	nbdkit-options.sh \
	nbdkit-avhdx.sh \
	nbdkit-corpus.sh
EXTRA_DIST += \
	nbdkit-functions.sh \
	nbdkit-formats.sh \
	nbdkit-options.sh \
	nbdkit-avhdx.sh \
	nbdkit-corpus.sh
