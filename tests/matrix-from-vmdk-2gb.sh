#!/bin/bash
# vmdk-2gb input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vmdk-2gb
