#!/bin/bash
# qcow2-zstd input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" qcow2-zstd
