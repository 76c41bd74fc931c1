# Core tests and the test helpers every area uses.
check_PROGRAMS += imgtool
imgtool_SOURCES = imgtool.c
