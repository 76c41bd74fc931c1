# SPDX-License-Identifier: LGPL-2.1-or-later
# The kvm plugin: libvirt domain XML read and written, checked by
# libvirt's own schema and by a libvirt daemon the tests start.
#
# kvm-write-vm drives the plugin's write and finish as the conversion
# pipeline does.
check_PROGRAMS += kvm-write-vm
kvm_write_vm_SOURCES = kvm-write-vm.c

TESTS += kvm-read.sh kvm-write.sh kvm-hostile.sh kvm-libvirtd.sh convert-boot.sh
EXTRA_DIST += kvm-read.sh kvm-write.sh kvm-hostile.sh kvm-libvirtd.sh convert-boot.sh libvirtd-functions.sh \
	kvm-roundtrip.py kvm-bootdisk.py data/libvirt data/kvm
