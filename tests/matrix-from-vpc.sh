#!/bin/bash
# vpc input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vpc
