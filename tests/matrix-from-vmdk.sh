#!/bin/bash
# vmdk input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vmdk
