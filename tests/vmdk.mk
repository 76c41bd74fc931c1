# vmdk tests
