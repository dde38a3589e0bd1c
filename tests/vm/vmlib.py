"""Helpers for the guest tests of scripts/vm-test (tests/vm/test_*.py), on top of tbtest."""
import ctypes
import os
import unittest

import tbtest

CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
# The calls x86_64's vDSO answers without entering the kernel where the clock source allows it.
VDSO_NAMES = ("clock_gettime", "clock_getres", "gettimeofday", "time", "getcpu")
# Sandbox runs take ~2 s under TCG emulation: never let the default 10 s timeout decide a test.
SLOW = ("--timeout", "120")


def need_guest():
    """Skips unless running in scripts/vm-test's guest (guest-init sets TB_VM_GUEST)."""
    tbtest.need_root()
    if os.environ.get("TB_VM_GUEST") != "1":
        raise unittest.SkipTest("runs only in scripts/vm-test's guest (the second kernel)")


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def apparmor_enabled():
    return read("/sys/module/apparmor/parameters/enabled") == "Y" and os.path.isdir("/sys/kernel/security/apparmor")


def cgroup_fstypes():
    """Filesystem types mounted at or below /sys/fs/cgroup."""
    with open("/proc/mounts") as f:
        return {l.split()[2] for l in f if l.split()[1].startswith("/sys/fs/cgroup")}


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    nr = 444  # landlock_create_ruleset on x86_64
    v = libc.syscall(nr, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # LANDLOCK_CREATE_RULESET_VERSION
    return v if v > 0 else 0


def cgroup_parent(tag):
    """A --cgroup-parent for one test file (leak checks then see no other suite's sandboxes)."""
    return "tb-vm-%s-%d" % (tag, os.getpid())


def remove_cgroup_parent(name):
    """Removes the (empty) parent directories of cgroup_parent() NAME after a test file's runs."""
    for d in tbtest.cgroup_parents(name):
        os.rmdir(d)
