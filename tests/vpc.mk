# vpc tests
