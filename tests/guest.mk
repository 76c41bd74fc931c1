# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest conversion (core/guest/).  Each appliance launch of libguestfs
# takes 10-20 s under TCG, so make check runs one test with two
# launches (guest-convert.sh); the rest runs with make check-guest.
# The test guests are built by the tests (guest-functions.sh), nothing
# is downloaded.
TESTS += guest-convert.sh
EXTRA_DIST += \
	guest-functions.sh \
	guest-convert.sh \
	guest-inspect.sh \
	guest-fix.sh

TESTS += test-guest-initrd
check_PROGRAMS += test-guest-initrd
# initrd.c's host half (vmc_guest_initrd_members) and initrd-compress.c
# are compiled in: they live in the libguestfs module, not in libvmconv.
test_guest_initrd_SOURCES = test-guest-initrd.c \
	$(top_srcdir)/core/guest/initrd.c \
	$(top_srcdir)/core/guest/initrd-compress.c
test_guest_initrd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/guest
test_guest_initrd_CFLAGS = $(AM_CFLAGS) $(LIBARCHIVE_CFLAGS) \
	$(ZSTD_CFLAGS) $(LIBDEFLATE_CFLAGS)
test_guest_initrd_LDADD = $(LDADD) $(LIBARCHIVE_LIBS) $(ZSTD_LIBS) \
	$(LIBDEFLATE_LIBS)

# make check-guest: the guest tests, those make check leaves out too.
GUEST_TESTS = guest-convert.sh guest-inspect.sh guest-fix.sh \
	test-guest-initrd
check-guest:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(GUEST_TESTS)'
.PHONY: check-guest

# make check-guests: real Debian 12 guests built by debootstrap
# (tests/guests/, as root, from the Debian mirror, cached in
# /var/tmp/vmconv-guests), booted under QEMU as on VMware, converted to
# KVM and booted on virtio.  Minutes per guest under TCG: not part of
# make check.  The test environment gives it this build's vmconv.
check-guests:
	$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/guests/check-guests.sh
.PHONY: check-guests
EXTRA_DIST += \
	guests/README.md \
	guests/build-guest.sh \
	guests/boot-guest.sh \
	guests/check-guests.sh \
	guests/kvm-works.sh \
	guests/files/fake-grub-mkrelpath \
	guests/files/fake-grub-probe \
	guests/files/vmconv-guest-marker \
	guests/files/vmconv-guest.service
