/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest conversion, Linux fix: the network interfaces keep their names
 * on the new NIC model.
 *
 * A guest's network configuration names its interfaces ("ens33" from
 * VMware's PCI slot 33, "eth0").  On the target the NIC sits in another
 * slot, so predictable naming gives it another name (enp1s0) and the
 * configuration no longer applies: the guest boots without network.
 * So the names the configuration uses are pinned to the NICs' MAC
 * addresses with systemd .link files, read by systemd-udevd's
 * net_setup_link builtin.  Stale udev persistent-net rules (MAC -> name
 * for the old NICs) go, as their MACs usually no longer exist and the
 * generator would then hand out eth1.
 *
 * The initramfs: Debian's initramfs-tools hook for udev (Debian 12,
 * /usr/share/initramfs-tools/hooks/udev) copies /etc/systemd/network/
 * *.link and the /etc/udev/rules.d/ rules into the initramfs, and
 * dracut's udev-rules module copies 70-persistent-net.rules in hostonly
 * mode.  udev in the initramfs therefore names the NICs as the initramfs
 * was built: an initramfs built before this fix renames by the stale
 * rules or not at all.  That is harmless when the initramfs does not
 * bring the network up (the usual case): the NICs are still down when
 * the root's udev replays the "add" events and renames them by the
 * .link files.  An initramfs that uses the network (NFS or iSCSI root,
 * dropbear for an encrypted root) needs the .link inside it, i.e. the
 * initramfs rebuilt after this step.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vmconv.h>
#include "cleanup.h"
#include "guest.h"

#define PERSISTENT_NET "/etc/udev/rules.d/70-persistent-net.rules"

/* What one configuration says about one interface: its NAME, the MAC
 * it matches (lower case), or both.
 */
struct netif {
    char *name;
    char *mac;
    char *file;
};

struct netifs {
    struct netif *v;
    size_t n;
};

static void
netifs_free(struct netifs *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].mac);
        free(l->v[i].file);
    }
    free(l->v);
}

/* Is NAME a physical NIC's name worth pinning?  Not the loopback, not
 * a VLAN (eth0.10), a bridge, a bond or another virtual device.  (An
 * alias, eth0:1, was cut at the colon.)
 */
static bool
physical_name(const char *name)
{
    static const char *const virt[] = {
        "br", "bond", "team", "vlan", "virbr", "docker", "veth", "vnet",
        "tun", "tap", "wg", "dummy", "ppp", "wlan", NULL
    };
    size_t i;

    /* The kernel takes more, but a name that is not plain letters,
     * digits, '-' and '_' is a glob, a list or not a name, and is
     * written into files below.
     */
    if (name[0] == '\0' || strcmp(name, "lo") == 0 || strlen(name) > 15 ||
        name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] != '\0')
        return false;
    for (i = 0; virt[i]; i++)
        if (strncmp(name, virt[i], strlen(virt[i])) == 0)
            return false;
    return true;
}

/* Is MAC "aa:bb:cc:dd:ee:ff" (any case)?  Lower-cases it in place. */
static bool
valid_mac(char *mac)
{
    size_t i;

    if (strlen(mac) != 17)
        return false;
    for (i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char) mac[i]))
            return false;
        mac[i] = tolower((unsigned char) mac[i]);
    }
    return true;
}

/* Add NAME (may be NULL) and MAC (may be NULL or not a MAC) found in
 * FILE.  Names that are not physical NICs are left out.  Returns 0, or
 * -1 with an error set on H.
 */
static int
add_netif(struct vmc_handle *h, struct netifs *l, const char *name,
          const char *mac, const char *file)
{
    CLEANUP_FREE char *n = name ? strdup(name) : NULL;
    CLEANUP_FREE char *m = mac ? strdup(mac) : NULL;
    struct netif *v;
    char *colon;

    if ((name && n == NULL) || (mac && m == NULL))
        goto oom;
    if (n && (colon = strchr(n, ':')))
        *colon = '\0';
    if (n && !physical_name(n)) {
        free(n);
        n = NULL;
    }
    if (m && !valid_mac(m)) {
        free(m);
        m = NULL;
    }
    if (n == NULL && m == NULL)
        return 0;
    v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL)
        goto oom;
    l->v = v;
    v[l->n].file = strdup(file);
    if (v[l->n].file == NULL)
        goto oom;
    v[l->n].name = common_steal_pointer(&n);
    v[l->n].mac = common_steal_pointer(&m);
    l->n++;
    return 0;
 oom:
    vmc_error(h, "out of memory");
    return -1;
}

/* Strip the white space around S and a pair of quotes around that, in
 * place.
 */
static char *
unquote(char *s)
{
    size_t l;

    s += strspn(s, " \t");
    l = strlen(s);
    while (l > 0 && isspace((unsigned char) s[l - 1]))
        s[--l] = '\0';
    if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0]) {
        s[l - 1] = '\0';
        s++;
    }
    return s;
}

/* The files matching PATTERN in the guest (NULL-terminated, free with
 * vmc_guest_free_strings), or NULL when none.
 */
static char **
guest_glob(guestfs_h *g, const char *pattern)
{
    char **m;

    guestfs_push_error_handler(g, NULL, NULL);
    m = guestfs_glob_expand(g, pattern);
    guestfs_pop_error_handler(g);
    if (m && m[0] == NULL) {
        free(m);
        m = NULL;
    }
    return m;
}

/* udev persistent-net rules: ATTR{address}=="MAC" ... NAME="NAME". */
static int
read_rules(struct vmc_handle *h, char *text, struct netifs *l)
{
    char *line, *save = NULL;

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *a = strstr(line, "ATTR{address}==\"");
        char *n = strstr(line, "NAME=\"");
        char *e;

        if (n == NULL)
            n = strstr(line, "NAME:=\"");
        if (line[strspn(line, " \t")] == '#' || a == NULL || n == NULL)
            continue;
        a += strlen("ATTR{address}==\"");
        n = strchr(n, '"') + 1;
        if ((e = strchr(a, '"')) == NULL)
            continue;
        *e = '\0';
        if ((e = strchr(n, '"')) == NULL)
            continue;
        *e = '\0';
        if (add_netif(h, l, n, a, PERSISTENT_NET) == -1)
            return -1;
    }
    return 0;
}

/* ifupdown: "iface NAME ...", "auto NAME...", "allow-CLASS NAME...",
 * and the members of bridges and bonds ("bridge_ports", "bond-slaves").
 */
static int
read_ifupdown(struct vmc_handle *h, char *text, const char *file,
              struct netifs *l)
{
    char *line, *save = NULL;

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *w, *wsave = NULL;
        bool all;

        w = strtok_r(line, " \t", &wsave);
        if (w == NULL || w[0] == '#')
            continue;
        all = strcmp(w, "auto") == 0 || strncmp(w, "allow-", 6) == 0 ||
            strcmp(w, "bridge_ports") == 0 || strcmp(w, "bridge-ports") == 0 ||
            strcmp(w, "bond-slaves") == 0 || strcmp(w, "bond_slaves") == 0;
        if (!all && strcmp(w, "iface") != 0)
            continue;
        while ((w = strtok_r(NULL, " \t", &wsave)) != NULL) {
            if (strcmp(w, "none") != 0 && strcmp(w, "all") != 0 &&
                add_netif(h, l, w, NULL, file) == -1)
                return -1;
            if (!all)
                break;      /* "iface NAME inet static" */
        }
    }
    return 0;
}

/* One netplan "ethernets" entry being read. */
struct np_entry {
    char *key;
    char *setname;
    char *mname;
    char *mac;
    bool has_match;
    int match;             /* the indentation of its "match:", or -1 */
};

/* Add what entry E says (its set-name, else its match's name, else its
 * key when it has no match: with a match the key is only an id) and
 * start a new one.  R is the result so far; returns the new one.
 */
static int
np_flush(struct vmc_handle *h, struct np_entry *e, const char *file,
         struct netifs *l, int r)
{
    if (e->key && r == 0)
        r = add_netif(h, l, e->setname ? e->setname
                      : e->mname ? e->mname : e->has_match ? NULL : e->key,
                      e->mac, file);
    free(e->key);
    free(e->setname);
    free(e->mname);
    free(e->mac);
    memset(e, 0, sizeof *e);
    e->match = -1;
    return r;
}

/* netplan: under "ethernets:", each entry's name and the MAC its match
 * names.  Not a YAML parser: block style with consistent indentation,
 * which is what installers and cloud-init write.
 */
static int
read_netplan(struct vmc_handle *h, char *text, const char *file,
             struct netifs *l)
{
    struct np_entry e = { NULL, NULL, NULL, NULL, false, -1 };
    char *line, *save = NULL;
    int eth = -1, entry = -1;
    int r = 0;

    for (line = strtok_r(text, "\n", &save); line && r == 0;
         line = strtok_r(NULL, "\n", &save)) {
        int ind = (int) strspn(line, " ");
        char *s = line + ind, *colon, *v;

        if (*s == '\0' || *s == '#' || strncmp(s, "- ", 2) == 0 ||
            (colon = strchr(s, ':')) == NULL)
            continue;
        *colon = '\0';
        v = unquote(colon + 1);
        s = unquote(s);
        if (eth >= 0 && ind <= eth) {
            r = np_flush(h, &e, file, l, r);
            eth = entry = -1;
        }
        if (eth < 0) {
            if (strcmp(s, "ethernets") == 0)
                eth = ind;
            continue;
        }
        if (entry < 0 || ind <= entry) {
            r = np_flush(h, &e, file, l, r);
            entry = ind;
            if ((e.key = strdup(s)) == NULL) {
                vmc_error(h, "out of memory");
                r = -1;
            }
            continue;
        }
        if (e.match >= 0 && ind <= e.match)
            e.match = -1;
        if (strcmp(s, "match") == 0) {
            e.match = ind;
            e.has_match = true;
        }
        else if (e.match >= 0 && strcmp(s, "macaddress") == 0 && !e.mac)
            e.mac = strdup(v);
        else if (e.match >= 0 && strcmp(s, "name") == 0 && !e.mname)
            e.mname = strdup(v);
        else if (strcmp(s, "set-name") == 0 && !e.setname)
            e.setname = strdup(v);
    }
    return np_flush(h, &e, file, l, r);
}

/* An ini-style file (NetworkManager keyfile, systemd .network, ifcfg):
 * calls FN for each KEY=VALUE with the section it is in ("" before the
 * first one).
 */
static void
read_ini(char *text, void (*fn)(const char *sect, char *key, char *value,
                                void *opaque), void *opaque)
{
    char *line, *save = NULL;
    const char *sect = "";

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq;

        line += strspn(line, " \t");
        if (line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            char *e = strchr(line, ']');

            if (e) {
                *e = '\0';
                sect = line + 1;
            }
            continue;
        }
        if ((eq = strchr(line, '=')) == NULL)
            continue;
        *eq = '\0';
        fn(sect, unquote(line), unquote(eq + 1), opaque);
    }
}

/* What one ini file says: a name, a MAC, and whether it is about an
 * Ethernet NIC.
 */
struct ini_facts {
    char *name;
    char *mac;
    bool not_ether;
};

static void
nm_key(const char *sect, char *key, char *value, void *opaque)
{
    struct ini_facts *f = opaque;
    size_t l;

    if (strcmp(sect, "connection") == 0 && strcmp(key, "type") == 0)
        f->not_ether = strcmp(value, "ethernet") != 0 &&
            strcmp(value, "802-3-ethernet") != 0;
    else if (strcmp(sect, "connection") == 0 &&
             strcmp(key, "interface-name") == 0)
        f->name = value;
    else if ((strcmp(sect, "ethernet") == 0 ||
              strcmp(sect, "802-3-ethernet") == 0) &&
             strcmp(key, "mac-address") == 0) {
        /* older keyfiles end lists with ';' */
        l = strlen(value);
        if (l > 0 && value[l - 1] == ';')
            value[l - 1] = '\0';
        f->mac = value;
    }
}

static void
networkd_key(const char *sect, char *key, char *value, void *opaque)
{
    struct ini_facts *f = opaque;

    if (strcmp(sect, "Match") != 0)
        return;
    /* A single name or MAC only: a list or a glob pins nothing. */
    if (strcmp(key, "Name") == 0 && !strpbrk(value, " \t"))
        f->name = value;
    else if ((strcmp(key, "MACAddress") == 0 ||
              strcmp(key, "PermanentMACAddress") == 0) &&
             !strpbrk(value, " \t"))
        f->mac = value;
    else if (strcmp(key, "Type") == 0 && strcmp(value, "ether") != 0)
        f->not_ether = true;
}

/* A .link file of the guest's own: [Match] MACAddress= with [Link]
 * Name=, the pair this fix writes, or a name alone.
 */
static void
link_key(const char *sect, char *key, char *value, void *opaque)
{
    struct ini_facts *f = opaque;

    if (strcmp(sect, "Match") == 0 && !strpbrk(value, " \t") &&
        (strcmp(key, "MACAddress") == 0 ||
         strcmp(key, "PermanentMACAddress") == 0))
        f->mac = value;
    else if (strcmp(sect, "Link") == 0 && strcmp(key, "Name") == 0)
        f->name = value;
}

static void
ifcfg_key(const char *sect, char *key, char *value, void *opaque)
{
    struct ini_facts *f = opaque;

    (void) sect;
    if (strcmp(key, "DEVICE") == 0)
        f->name = value;
    else if (strcmp(key, "HWADDR") == 0)
        f->mac = value;
    else if (strcmp(key, "TYPE") == 0)
        f->not_ether = strcasecmp(value, "Ethernet") != 0;
}

/* Read every configuration file matching PATTERN with READ. */
static int
read_glob(struct vmc_handle *h, guestfs_h *g, const char *pattern,
          int (*read)(struct vmc_handle *, guestfs_h *, const char *,
                      char *, struct netifs *),
          struct netifs *l)
{
    char **m = guest_glob(g, pattern);
    size_t i;
    int r = 0;

    for (i = 0; m && m[i] && r == 0; i++) {
        CLEANUP_FREE char *text = vmc_guest_read(g, m[i]);

        if (text)
            r = read(h, g, m[i], text, l);
    }
    vmc_guest_free_strings(m);
    return r;
}

static int
rd_ifupdown(struct vmc_handle *h, guestfs_h *g, const char *file,
            char *text, struct netifs *l)
{
    (void) g;
    return read_ifupdown(h, text, file, l);
}

static int
rd_netplan(struct vmc_handle *h, guestfs_h *g, const char *file,
           char *text, struct netifs *l)
{
    (void) g;
    return read_netplan(h, text, file, l);
}

static int
rd_nm(struct vmc_handle *h, guestfs_h *g, const char *file, char *text,
      struct netifs *l)
{
    struct ini_facts f = { NULL, NULL, false };

    (void) g;
    read_ini(text, nm_key, &f);
    return f.not_ether ? 0 : add_netif(h, l, f.name, f.mac, file);
}

static int
rd_networkd(struct vmc_handle *h, guestfs_h *g, const char *file,
            char *text, struct netifs *l)
{
    struct ini_facts f = { NULL, NULL, false };

    (void) g;
    read_ini(text, networkd_key, &f);
    return f.not_ether ? 0 : add_netif(h, l, f.name, f.mac, file);
}

static int
rd_link(struct vmc_handle *h, guestfs_h *g, const char *file, char *text,
        struct netifs *l)
{
    struct ini_facts f = { NULL, NULL, false };

    (void) g;
    /* ours, from an earlier run: what it pins comes from elsewhere */
    if (strstr(file, "/10-vmconv-"))
        return 0;
    read_ini(text, link_key, &f);
    return add_netif(h, l, f.name, f.mac, file);
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t l = strlen(s), m = strlen(suffix);

    return l >= m && strcmp(s + l - m, suffix) == 0;
}

static int
rd_ifcfg(struct vmc_handle *h, guestfs_h *g, const char *file, char *text,
         struct netifs *l)
{
    struct ini_facts f = { NULL, NULL, false };
    const char *base = strrchr(file, '/');
    size_t bl;

    (void) g;
    base = base ? base + 1 : file;
    bl = strlen(base);
    /* backups and editor leftovers are not read by the scripts */
    if (bl == 0 || base[bl - 1] == '~' || ends_with(base, ".bak") ||
        ends_with(base, ".old") || ends_with(base, ".rpmsave") ||
        ends_with(base, ".rpmnew"))
        return 0;
    read_ini(text, ifcfg_key, &f);
    if (f.name == NULL)
        f.name = (char *) base + strlen("ifcfg-");
    return f.not_ether ? 0 : add_netif(h, l, f.name, f.mac, file);
}

/* Is MAC the MAC of one of the target's NICs? */
static bool
target_has_mac(const struct guest_fix_ctx *c, const char *mac)
{
    size_t i;

    for (i = 0; i < c->nr_nics; i++)
        if (c->nic_macs && c->nic_macs[i] &&
            strcasecmp(c->nic_macs[i], mac) == 0)
            return true;
    return false;
}

/* The pins: name -> MAC, as a JSON object (names in the order found). */
static struct json_object *
pair(struct vmc_handle *h, const struct guest_fix_ctx *c,
     const struct netifs *l)
{
    struct json_object *pins = json_object_new_object();
    struct json_object *names = json_object_new_object();
    struct json_object *macs = json_object_new_object();
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->v[i].name)
            json_object_object_add(names, l->v[i].name, NULL);
    /* A configuration naming both: the pair holds when the MAC stayed. */
    for (i = 0; i < l->n; i++) {
        const struct netif *f = &l->v[i];

        if (f->mac && !target_has_mac(c, f->mac)) {
            if (f->name == NULL)
                vmc_warning(h, "guest: %s matches the MAC address %s, "
                            "which no NIC has after conversion: it will "
                            "not apply", f->file, f->mac);
            continue;
        }
        if (f->name == NULL || f->mac == NULL ||
            json_object_object_get_ex(pins, f->name, NULL) ||
            json_object_object_get_ex(macs, f->mac, NULL))
            continue;
        json_object_object_add(pins, f->name, json_object_new_string(f->mac));
        json_object_object_add(macs, f->mac, NULL);
    }
    /* One NIC, one name: they belong together whatever the MACs say. */
    if (json_object_object_length(pins) == 0 &&
        json_object_object_length(names) == 1 && c->nr_nics == 1 &&
        c->nic_macs && c->nic_macs[0]) {
        json_object_object_foreach(names, n, v) {
            (void) v;
            json_object_object_add(pins, n,
                                   json_object_new_string(c->nic_macs[0]));
        }
    }
    json_object_put(macs);
    json_object_put(names);
    return pins;
}

/* Warn about the names used but not pinned. */
static void
warn_unpaired(struct vmc_handle *h, const struct guest_fix_ctx *c,
              const struct netifs *l, struct json_object *pins)
{
    struct json_object *seen = json_object_new_object();
    char list[512] = "";
    size_t i, len = 0;

    for (i = 0; i < l->n; i++) {
        const char *n = l->v[i].name;

        if (n == NULL || json_object_object_get_ex(pins, n, NULL) ||
            json_object_object_get_ex(seen, n, NULL))
            continue;
        json_object_object_add(seen, n, NULL);
        if (len < sizeof list)
            len += snprintf(list + len, sizeof list - len, "%s%s (%s)",
                            len ? ", " : "", n, l->v[i].file);
    }
    json_object_put(seen);
    if (len > 0)
        vmc_warning(h, "guest: the network interface names %s could not be "
                    "paired with the target's %zu NIC%s (no MAC address "
                    "kept that the configuration names): on the target "
                    "they may get other names and stay unconfigured",
                    list, c->nr_nics, c->nr_nics == 1 ? "" : "s");
}

/* Does the guest's udev apply .link files?  systemd-udevd does, through
 * 80-net-setup-link.rules, unless the administrator masked that rule
 * (a link to /dev/null, or an empty file: the old recipe to keep ethN
 * names); then only NAME= in rules renames.
 */
static bool
udev_uses_links(guestfs_h *g)
{
    static const char *const mask = "/etc/udev/rules.d/80-net-setup-link.rules";

    if (!vmc_guest_exists(g, "/lib/systemd/systemd-udevd") &&
        !vmc_guest_exists(g, "/usr/lib/systemd/systemd-udevd"))
        return false;
    if (vmc_guest_exists(g, mask)) {
        CLEANUP_FREE char *l = NULL;
        int64_t size;

        guestfs_push_error_handler(g, NULL, NULL);
        l = guestfs_readlink(g, mask);
        size = guestfs_filesize(g, mask);
        guestfs_pop_error_handler(g);
        if ((l && strcmp(l, "/dev/null") == 0) || size == 0)
            return false;
    }
    return true;
}

/* Write the pins: one .link file each, or one rules file when udev does
 * not read .link files.
 */
static int
write_pins(struct vmc_handle *h, guestfs_h *g, const struct guest_fix_ctx *c,
           struct json_object *pins, bool links, struct json_object *changes)
{
    CLEANUP_FREE char *rules = NULL;
    size_t rlen = 0;
    FILE *rf = NULL;

    if (links && guestfs_mkdir_p(g, "/etc/systemd/network") == -1) {
        vmc_error(h, "guest: creating /etc/systemd/network: %s",
                  guestfs_last_error(g));
        return -1;
    }
    if (!links) {
        rf = open_memstream(&rules, &rlen);
        if (rf == NULL) {
            vmc_error(h, "out of memory");
            return -1;
        }
        fputs("# Written by vmconv: the names these interfaces had before "
              "conversion.\n", rf);
    }
    json_object_object_foreach(pins, name, v) {
        const char *mac = json_object_get_string(v);
        CLEANUP_FREE char *path = NULL, *text = NULL;

        /* systemd.link(5): a name in the kernel's own ethN namespace can
         * race with the kernel naming another NIC.  With one NIC there
         * is nothing to race with; with several, keeping the name the
         * configuration uses is still better than a name nothing
         * configures, so it is kept, and said.
         */
        if (strncmp(name, "eth", 3) == 0 && c->nr_nics > 1)
            vmc_info(h, "guest: %s is pinned to %s although it is in the "
                     "kernel's ethN namespace: with %zu NICs, udev and the "
                     "kernel may race for it", name, mac, c->nr_nics);
        if (!links) {
            fprintf(rf, "SUBSYSTEM==\"net\", ACTION==\"add\", "
                    "DRIVERS==\"?*\", ATTR{address}==\"%s\", "
                    "NAME=\"%s\"\n", mac, name);
            continue;
        }
        if (asprintf(&path, "/etc/systemd/network/10-vmconv-%s.link",
                     name) == -1 ||
            asprintf(&text, "# Written by vmconv: the name this interface "
                     "had before conversion.\n"
                     "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n",
                     mac, name) == -1) {
            vmc_error(h, "out of memory");
            return -1;
        }
        if (vmc_guest_write(h, g, path, text) == -1)
            return -1;
        vmc_guest_change(h, changes, path, "written: %s keeps its name "
                         "(MAC %s)", name, mac);
    }
    if (rf == NULL)
        return 0;
    if (fclose(rf) != 0) {
        vmc_error(h, "out of memory");
        return -1;
    }
    if (vmc_guest_write(h, g, PERSISTENT_NET, rules) == -1)
        return -1;
    vmc_guest_change(h, changes, PERSISTENT_NET,
                     "written: the interface names pinned to the target's "
                     "MAC addresses");
    return 0;
}

int
vmc_guest_fix_network(struct vmc_handle *h, guestfs_h *g,
                      const struct guest_fix_ctx *c,
                      struct json_object *changes)
{
    struct netifs l = { NULL, 0 };
    struct json_object *pins = NULL;
    CLEANUP_FREE char *rules = vmc_guest_read(g, PERSISTENT_NET);
    bool links = udev_uses_links(g);
    int r = -1;

    if (rules && read_rules(h, rules, &l) == -1)
        goto out;
    if (read_glob(h, g, "/etc/network/interfaces", rd_ifupdown, &l) == -1 ||
        read_glob(h, g, "/etc/network/interfaces.d/*", rd_ifupdown, &l) == -1 ||
        read_glob(h, g, "/etc/netplan/*.yaml", rd_netplan, &l) == -1 ||
        read_glob(h, g, "/etc/NetworkManager/system-connections/*",
                  rd_nm, &l) == -1 ||
        read_glob(h, g, "/etc/systemd/network/*.network", rd_networkd,
                  &l) == -1 ||
        read_glob(h, g, "/etc/systemd/network/*.link", rd_link, &l) == -1 ||
        read_glob(h, g, "/etc/sysconfig/network-scripts/ifcfg-*", rd_ifcfg,
                  &l) == -1 ||
        read_glob(h, g, "/etc/sysconfig/network/ifcfg-*", rd_ifcfg, &l) == -1)
        goto out;

    pins = pair(h, c, &l);
    warn_unpaired(h, c, &l, pins);
    if (rules) {
        if (vmc_guest_rm(h, g, PERSISTENT_NET) == -1)
            goto out;
        vmc_guest_change(h, changes, PERSISTENT_NET, "removed: the MAC "
                         "addresses it names are the old NICs'");
    }
    if (json_object_object_length(pins) > 0 &&
        write_pins(h, g, c, pins, links, changes) == -1)
        goto out;
    r = 0;
 out:
    json_object_put(pins);
    netifs_free(&l);
    return r;
}
