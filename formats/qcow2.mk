# qcow2 driver sources (owned by the qcow2 driver)
libvmconv_internal_la_SOURCES += formats/qcow2.c
