#!/bin/busybox sh
# Run in a qemu guest's initramfs as root (by the init of tests/kmod/boot.sh and of
# tests/kmod/engine.sh), with /crctl.ko, /crctl_test and /crctl_fuzz beside it: insmod,
# the ioctl checks (tests/kmod/crctl_test.c, as root and as uid 1000), the ioctl fuzzer
# for SECONDS (root and uid 1000 at once, on a tmpfs of its own: a file reference the
# module leaked would keep it busy), rmmod, a reload and unload again.  One
# "KMOD-TEST: PASS|FAIL name" line each on the console; the module is left unloaded.
# Usage: ioctl-guest.sh SECONDS
fuzz=${1:-10}
mkdir -p /tmp && chmod 1777 /tmp
if insmod /crctl.ko; then echo "KMOD-TEST: PASS insmod"; else echo "KMOD-TEST: FAIL insmod"; fi
/crctl_test
mkdir -p /fuzz && mount -t tmpfs fuzz /fuzz
/crctl_fuzz "$fuzz" /fuzz
if umount /fuzz; then echo "KMOD-TEST: PASS fuzz-no-file-reference-left"
else echo "KMOD-TEST: FAIL fuzz-no-file-reference-left - the fuzzer's tmpfs is still busy"; fi
if rmmod crctl; then echo "KMOD-TEST: PASS rmmod"; else echo "KMOD-TEST: FAIL rmmod"; fi
if [ ! -e /dev/crctl ] && ! grep -q '^crctl ' /proc/modules; then echo "KMOD-TEST: PASS unloaded"
else echo "KMOD-TEST: FAIL unloaded - /dev/crctl or the module is still there"; fi
# reload: a clean unload leaves nothing that stops a second load
if insmod /crctl.ko && rmmod crctl; then echo "KMOD-TEST: PASS reload"; else echo "KMOD-TEST: FAIL reload"; fi
dmesg | grep -E 'crctl' | sed 's/^/KMOD-DMESG: /'
echo "KMOD-TEST: ioctl checks done"
