/* The plugin ABI (being written). */
#ifndef VMCONV_PLUGIN_H
#define VMCONV_PLUGIN_H
#include <vmconv/vmconv.h>
#include <vmconv/vm.h>
#endif
