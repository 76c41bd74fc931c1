#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmdk-flat input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vmdk-flat
