# vhdx tests
