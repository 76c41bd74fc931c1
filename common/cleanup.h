/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv common/: cleanup attributes for plugins.
 *
 * common/ is a convenience library linked statically into the plugins
 * that use it (nbdkit's common/utils in spirit): it is not part of the
 * plugin ABI and promises no compatibility.  Only the public headers
 * (include/vmconv/) are needed to use it.
 *
 * A local marked with one of these is freed when it goes out of scope,
 * so every early return is safe:
 *
 *   CLEANUP_FREE char *text = NULL;
 *   CLEANUP_XMLFREEDOC xmlDocPtr doc = NULL;
 *
 * Hand a value to the caller by taking it out of the local first
 * (common_steal_pointer).  libvmconv's own code uses core/cleanup.h,
 * which defines the same CLEANUP_FREE: include one or the other.
 */
#ifndef VMCONV_COMMON_CLEANUP_H
#define VMCONV_COMMON_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>

struct vmc_vm;
struct vmc_image;
struct _xmlDoc;
struct _xmlTextWriter;
struct _xmlXPathContext;
struct _xmlXPathObject;
struct _xmlBuffer;

void common_cleanup_free(void *ptr);
void common_cleanup_close(int *fd);
void common_cleanup_fclose(FILE **fp);
void common_cleanup_vm_free(struct vmc_vm **vm);
void common_cleanup_image_close(struct vmc_image **img);
/* These need libxml2 (link LIBXML2_LIBS). */
void common_cleanup_xmlfreedoc(struct _xmlDoc **doc);
void common_cleanup_xmlfreetextwriter(struct _xmlTextWriter **xo);
void common_cleanup_xmlxpathfreecontext(struct _xmlXPathContext **ctx);
void common_cleanup_xmlxpathfreeobject(struct _xmlXPathObject **obj);
void common_cleanup_xmlbufferfree(struct _xmlBuffer **buf);

#define CLEANUP_FREE __attribute__((cleanup(common_cleanup_free)))
#define CLEANUP_CLOSE __attribute__((cleanup(common_cleanup_close)))
#define CLEANUP_FCLOSE __attribute__((cleanup(common_cleanup_fclose)))
#define CLEANUP_VMC_VM_FREE __attribute__((cleanup(common_cleanup_vm_free)))
#define CLEANUP_IMAGE_CLOSE \
    __attribute__((cleanup(common_cleanup_image_close)))
#define CLEANUP_XMLFREEDOC __attribute__((cleanup(common_cleanup_xmlfreedoc)))
#define CLEANUP_XMLFREETEXTWRITER \
    __attribute__((cleanup(common_cleanup_xmlfreetextwriter)))
#define CLEANUP_XMLXPATHFREECONTEXT \
    __attribute__((cleanup(common_cleanup_xmlxpathfreecontext)))
#define CLEANUP_XMLXPATHFREEOBJECT \
    __attribute__((cleanup(common_cleanup_xmlxpathfreeobject)))
#define CLEANUP_XMLBUFFERFREE \
    __attribute__((cleanup(common_cleanup_xmlbufferfree)))

/* Return *PP and set it to NULL. */
#define common_steal_pointer(pp)                                        \
    ({ __typeof__(*(pp)) common_steal_tmp_ = *(pp); *(pp) = NULL;       \
       common_steal_tmp_; })

/* Return *FDP and set it to -1. */
#define common_steal_fd(fdp)                                            \
    ({ int common_steal_fd_ = *(fdp); *(fdp) = -1; common_steal_fd_; })

#endif /* VMCONV_COMMON_CLEANUP_H */
