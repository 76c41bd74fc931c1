# VM model, plugin loader and the commands built on them.
libvmconv_internal_la_SOURCES += \
	core/vm-internal.h \
	core/vm.c \
	core/vm-json.c \
	core/plugin.c
vmconv_SOURCES += \
	core/cli/plugins.c \
	core/cli/inspect.c \
	core/cli/convert.c
