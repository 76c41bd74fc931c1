#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvm-roundtrip.py FIRST.json SECOND.json: compare two vmconv-vm models
of one libvirt domain, FIRST read from the domain XML and SECOND read
from the XML the kvm plugin wrote for FIRST (without guest conversion).
Every field must survive, except what the writer changes on purpose
(vmconv-kvm-plugin(1)):

  - source-path (another file), notes (they name the file and indexes);
  - machine: written as its family (q35, pc, virt), never a versioned
    type the host's QEMU may lack;
  - nvram-path / nvram-kind: the source's variable store is not shared
    with the new domain (libvirt makes one from its template);
  - disks are written in boot order; a hard disk without an image is
    left out (libvirt has none); a disk's controller-ref is compared as
    the controller it names;
  - a serial console (pty, port 0) is added when there was no serial
    port; a serial port of a kind vmconv does not know becomes a pty;
  - graphics other than VNC and SPICE become VNC;
  - a NIC on a network kind vmconv does not know goes to 'default'.

Prints the differences and exits 1 if there are any.
"""
import json
import sys


def disks(vm):
    ctl = vm.get("controllers") or []
    out = []
    for i, d in enumerate(vm.get("disks") or []):
        d = dict(d)
        dev = d.get("device", "disk")
        if dev in ("disk", "lun") and not d.get("path") and \
                not (d.get("source-ref") or "").startswith("/"):
            continue
        ref = d.pop("controller-ref", -1)
        if ref is not None and ref >= 0:
            c = ctl[ref]
            d["controller-of"] = (c["bus"], c["index"], c.get("model"))
        out.append((d.get("boot-order") or 1 << 32, i, d))
    return [d for _, _, d in sorted(out, key=lambda t: (t[0], t[1]))]


def normalise(vm, first):
    vm = dict(vm)
    for k in ("source-path", "notes", "machine", "nvram-path", "nvram-kind"):
        vm.pop(k, None)
    vm["disks"] = disks(vm)
    vm["controllers"] = sorted((c["bus"], c["index"], c.get("model"))
                               for c in vm.get("controllers") or [])
    if first is None:
        if vm.get("graphics") not in ("vnc", "spice", "none"):
            vm["graphics"] = "vnc"
        nics = []
        for n in vm.get("nics") or []:
            n = dict(n)
            if n.get("network-type") in (None, "unknown"):
                n["network-type"] = "network"
                n["network"] = "default"
            nics.append(n)
        vm["nics"] = nics
    return vm


def main():
    a = json.load(open(sys.argv[1]))
    b = json.load(open(sys.argv[2]))
    if not a.get("serials"):
        b["serials"] = [s for s in b.get("serials") or []
                        if not (s.get("index") == 0 and s.get("type") == "pty")]
    for s in a.get("serials") or []:
        if s.get("type") in (None, "unknown"):
            s["type"] = "pty"
    a = normalise(a, None)
    b = normalise(b, a)
    # Controllers: those the second lists must include every one the
    # first had on a bus the writer keeps, with its model.
    diffs = []
    for k in sorted(set(a) | set(b)):
        if k == "controllers":
            continue
        if a.get(k) != b.get(k):
            if isinstance(a.get(k), list) and isinstance(b.get(k), list) and \
                    len(a[k]) == len(b[k]):
                for i, (x, y) in enumerate(zip(a[k], b[k])):
                    if x != y:
                        diffs.append("%s[%d]: %s\n   -> %s" % (k, i, x, y))
            else:
                diffs.append("%s: %s\n   -> %s" % (k, a.get(k), b.get(k)))
    missing = [c for c in a["controllers"] if c not in b["controllers"]
               and c[0] in ("scsi", "sata")]
    if missing:
        diffs.append("controllers lost: %s (kept: %s)" % (missing,
                                                         b["controllers"]))
    for d in diffs:
        print(d)
    sys.exit(1 if diffs else 0)


main()
