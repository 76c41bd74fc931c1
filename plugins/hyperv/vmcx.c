/* vmconv hyperv plugin: the "HyperVStorage" container (.vmcx, .vmrs). */
#include <config.h>

#include "hv.h"

struct hv_node *
vmcx_parse(struct vmc_handle *h, const void *buf, size_t len,
           const char *name)
{
    vmc_error_kind(h, VMC_ERR_UNSUPPORTED, "%s: hyperv plugin: reading "
                   ".vmcx is not implemented yet", name);
    return NULL;
}
