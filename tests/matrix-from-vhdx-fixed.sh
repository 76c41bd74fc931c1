#!/bin/bash
# vhdx-fixed input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vhdx-fixed
