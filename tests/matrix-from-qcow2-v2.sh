#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2-v2 input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" qcow2-v2
