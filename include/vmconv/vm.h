/* The neutral VM model (being written). */
#ifndef VMCONV_VM_H
#define VMCONV_VM_H
#include <vmconv/vmconv.h>
struct vmc_vm;
#endif
