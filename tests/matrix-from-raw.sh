#!/bin/bash
# raw input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" raw
