#!/bin/bash
# vhdx input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vhdx
