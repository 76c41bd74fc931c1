# qcow2 tests
