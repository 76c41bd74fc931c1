#!/bin/bash
# vmdk-flat input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vmdk-flat
