#!/bin/bash
# vmdk-stream input into every output kind (see matrix.sh).
. "$srcdir/matrix.sh" vmdk-stream
