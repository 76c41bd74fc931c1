#!/bin/bash
# vpc-fixed input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vpc-fixed
