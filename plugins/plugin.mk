# SPDX-License-Identifier: LGPL-2.1-or-later
# Link flags every plugin shares (included by plugins/*/Makefile.am).
#
# A plugin exports vmc_plugin_init and nothing else, and is linked
# against libvmconv with -z defs: every vmc_* it calls must resolve at
# link time, and the plugin records libvmconv as a dependency, so a
# program that dlopens libvmconv with RTLD_LOCAL (Python ctypes, say)
# can still load plugins.
PLUGIN_LDFLAGS = -module -avoid-version -shared -Wl,-z,defs \
	-export-symbols-regex '^vmc_plugin_init$$'
PLUGIN_LIBADD = $(top_builddir)/libvmconv.la
