/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmconv kvm plugin: the libvirt API side.  Sources are read through a
 * read-only connection; targets are defined with validation, never
 * replacing an existing domain unless asked to.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include <vmconv/plugin.h>

#include "kvm-internal.h"

#ifdef HAVE_LIBVIRT

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* libvirt prints every error on stderr by default: keep them for our
 * own messages instead.
 */
static void
virt_quiet(void *opaque, virErrorPtr err)
{
}

static const char *
virt_msg(void)
{
    const char *m = virGetLastErrorMessage();

    return m && *m ? m : "unknown libvirt error";
}

static void
virt_init(void)
{
    virSetErrorFunc(NULL, virt_quiet);
}

struct vmc_vm *
kvm_virt_read(struct vmc_handle *h, const char *uri, const char *domname,
              bool allow_running)
{
    virConnectPtr conn;
    virDomainPtr dom = NULL;
    struct vmc_vm *vm = NULL;
    xmlDocPtr doc = NULL;
    char *xml = NULL, *what = NULL;
    int active;

    virt_init();
    conn = virConnectOpenReadOnly(uri);
    if (conn == NULL) {
        vmc_error(h, "%s: cannot connect to libvirt (read-only): %s", uri,
                  virt_msg());
        return NULL;
    }
    dom = virDomainLookupByName(conn, domname);
    if (dom == NULL)
        dom = virDomainLookupByUUIDString(conn, domname);
    if (dom == NULL) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: no domain named '%s'",
                       uri, domname);
        goto out;
    }
    if (asprintf(&what, "%s: domain %s", uri, domname) == -1) {
        what = NULL;
        vmc_error(h, "out of memory");
        goto out;
    }
    active = virDomainIsActive(dom);
    if (active == -1) {
        vmc_error(h, "%s: %s", what, virt_msg());
        goto out;
    }
    if (active == 1 && !allow_running) {
        vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: the domain is running: its "
                       "disks are changing while they would be copied; shut "
                       "it down, or allow reading it anyway "
                       "(allow-running=on)", what);
        goto out;
    }
    xml = virDomainGetXMLDesc(dom, active == 1 ? 0 :
                              VIR_DOMAIN_XML_INACTIVE);
    if (xml == NULL) {
        vmc_error(h, "%s: cannot get its XML: %s", what, virt_msg());
        goto out;
    }
    doc = vmc_xml_read_memory(h, xml, strlen(xml), what);
    if (doc == NULL)
        goto out;
    vm = kvm_domain_to_vm(h, doc, what, NULL, conn, allow_running);
 out:
    xmlFreeDoc(doc);
    free(xml);
    free(what);
    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    return vm;
}

char *
kvm_virt_volume_path(struct vmc_handle *h, void *conn, const char *pool,
                     const char *volume, const char *what)
{
    virStoragePoolPtr p;
    virStorageVolPtr v;
    char *path;

    p = virStoragePoolLookupByName(conn, pool);
    if (p == NULL) {
        vmc_error(h, "%s: storage pool '%s': %s", what, pool, virt_msg());
        return NULL;
    }
    v = virStorageVolLookupByName(p, volume);
    if (v == NULL) {
        vmc_error(h, "%s: volume '%s' of pool '%s': %s", what, volume, pool,
                  virt_msg());
        virStoragePoolFree(p);
        return NULL;
    }
    path = virStorageVolGetPath(v);
    if (path == NULL)
        vmc_error(h, "%s: volume '%s' of pool '%s': no path: %s", what,
                  volume, pool, virt_msg());
    virStorageVolFree(v);
    virStoragePoolFree(p);
    return path;
}

/* A domain already there by NAME or UUID, or NULL. */
static virDomainPtr
virt_existing(virConnectPtr conn, const char *name, const char *uuid)
{
    virDomainPtr d = virDomainLookupByName(conn, name);

    if (d == NULL && uuid)
        d = virDomainLookupByUUIDString(conn, uuid);
    return d;
}

int
kvm_virt_define(struct vmc_handle *h, const char *uri, const char *file,
                const char *name, const char *uuid, bool replace)
{
    virConnectPtr conn;
    virDomainPtr old = NULL, dom = NULL;
    char *xml = NULL, *old_xml = NULL;
    char got[VIR_UUID_STRING_BUFLEN];
    const char *got_name;
    int ret = -1;

    xml = vmc_read_file(h, file, KVM_XML_MAX);
    if (xml == NULL)
        return -1;
    virt_init();
    conn = virConnectOpen(uri);
    if (conn == NULL) {
        vmc_error(h, "%s: cannot connect to libvirt: %s", uri, virt_msg());
        free(xml);
        return -1;
    }
    old = virt_existing(conn, name, uuid);
    if (old) {
        const char *oname = virDomainGetName(old);

        if (!replace) {
            vmc_error_kind(h, VMC_ERR_BAD_INPUT, "%s: a domain '%s' with "
                           "this name or UUID already exists: it is not "
                           "replaced (replace=on replaces it)", uri,
                           oname ? oname : name);
            goto out;
        }
        if (virDomainIsActive(old) == 1) {
            vmc_error(h, "%s: the domain '%s' to replace is running: shut "
                      "it down first", uri, oname ? oname : name);
            goto out;
        }
        /* Keep its definition, to put it back if the new one fails. */
        old_xml = virDomainGetXMLDesc(old, VIR_DOMAIN_XML_INACTIVE |
                                      VIR_DOMAIN_XML_SECURE);
        if (old_xml == NULL ||
            virDomainUndefineFlags(old, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
                                   VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) == -1) {
            vmc_error(h, "%s: cannot replace the domain '%s': %s", uri,
                      oname ? oname : name, virt_msg());
            goto out;
        }
        /* A second one (the name of one, the UUID of another)? */
        virDomainFree(old);
        old = virt_existing(conn, name, uuid);
        if (old) {
            vmc_error(h, "%s: both a domain named '%s' and another with UUID "
                      "%s exist: not replacing two domains", uri, name,
                      uuid ? uuid : "");
            goto restore;
        }
    }
    dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (dom == NULL) {
        vmc_error(h, "%s: libvirt refused the domain in %s: %s", uri, file,
                  virt_msg());
        goto restore;
    }
    /* What was defined is what was written. */
    got_name = virDomainGetName(dom);
    if (got_name == NULL || strcmp(got_name, name) != 0 ||
        virDomainGetUUIDString(dom, got) == -1 ||
        (uuid && strcmp(got, uuid) != 0)) {
        vmc_error(h, "%s: the domain defined from %s is not the one written "
                  "(name %s, UUID %s): undefined again", uri, file,
                  got_name ? got_name : "?", uuid ? uuid : "?");
        virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM);
        goto restore;
    }
    ret = 0;
    goto out;
 restore:
    if (old_xml) {
        virDomainPtr back = virDomainDefineXML(conn, old_xml);

        if (back)
            virDomainFree(back);
        else
            vmc_warning(h, "%s: the replaced domain could not be defined "
                        "again: %s", uri, virt_msg());
    }
 out:
    if (dom)
        virDomainFree(dom);
    if (old)
        virDomainFree(old);
    free(old_xml);
    free(xml);
    virConnectClose(conn);
    return ret;
}

#else  /* !HAVE_LIBVIRT */

struct vmc_vm *
kvm_virt_read(struct vmc_handle *h, const char *uri, const char *domname,
              bool allow_running)
{
    vmc_error(h, "%s: reading domains through libvirt needs libvirt: this "
              "vmconv was built without it (--without-libvirt)", uri);
    return NULL;
}

int
kvm_virt_define(struct vmc_handle *h, const char *uri, const char *file,
                const char *name, const char *uuid, bool replace)
{
    vmc_error(h, "%s: defining domains needs libvirt: this vmconv was "
              "built without it (--without-libvirt); %s is written", uri,
              file);
    return -1;
}

char *
kvm_virt_volume_path(struct vmc_handle *h, void *conn, const char *pool,
                     const char *volume, const char *what)
{
    vmc_error(h, "%s: volume %s of pool %s: vmconv was built without "
              "libvirt", what, volume, pool);
    return NULL;
}

#endif
