# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproducible outputs: byte-identical across runs and thread counts,
# data in disk order (SOURCE_DATE_EPOCH).
TESTS += repro-writers.sh
EXTRA_DIST += repro-writers.sh
