# vhdx driver sources (owned by the vhdx driver)
libvmconv_internal_la_SOURCES += formats/vhdx.c
