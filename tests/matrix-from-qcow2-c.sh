#!/bin/bash
# qcow2-c input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" qcow2-c
