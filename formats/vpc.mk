# vpc driver sources (owned by the vpc driver)
libvmconv_internal_la_SOURCES += formats/vpc.c
