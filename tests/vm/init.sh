#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# pid 1 of scripts/vm-test's guest (booted with init=/init.sh; this file is baked into the cached
# base image, so it only finds the payload and hands over). The payload disk (/dev/vdb, ext4, made
# per run by scripts/vm-test) holds the build and tests/vm/guest-init, which does the real work.
# Whatever happens, the guest powers off: init exiting would panic the kernel.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mkdir -p /opt/tightbox
if mount -t ext4 /dev/vdb /opt/tightbox && [ -x /opt/tightbox/src/tests/vm/guest-init ]; then
	/opt/tightbox/src/tests/vm/guest-init
	echo "TBVM-EXIT $?"
else
	echo "TBVM-ERROR the payload disk /dev/vdb did not mount or has no tests/vm/guest-init"
fi
sync
echo o >/proc/sysrq-trigger
sleep 60
