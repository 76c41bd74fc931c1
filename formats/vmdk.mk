# vmdk driver sources (owned by the vmdk driver)
libvmconv_internal_la_SOURCES += formats/vmdk.c
