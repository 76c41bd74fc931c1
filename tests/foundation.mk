# foundation tests
