# copy tests
