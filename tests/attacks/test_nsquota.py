"""Namespace creation is impossible inside the sandbox even with the seccomp filter off: the
sandbox's own user namespace has a quota of zero namespaces of every kind."""
import unittest

import tbtest
from tbtest import run_py

CODE = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
out = []
for name, flag in (("user", 0x10000000), ("mnt", 0x20000), ("net", 0x40000000), ("pid", 0x20000000),
                   ("ipc", 0x8000000), ("uts", 0x4000000), ("cgroup", 0x2000000)):
    r = libc.unshare(flag)
    out.append("%s=%d/%d" % (name, r, ctypes.get_errno()))
print(" ".join(out))
print(open("/proc/sys/user/max_user_namespaces").read().strip())
"""


def setUpModule():
    tbtest.need_root()


class NamespaceQuota(unittest.TestCase):
    def test_unshare_fails_without_seccomp(self):
        res = run_py(CODE, "--security-opt", "seccomp=unconfined")
        self.assertEqual(res["exit_code"], 0, res)
        first, quota = res["stdout"].splitlines()
        # user: ENOSPC from the quota (it needs no capability); the others: EPERM, no capability
        # in any user namespace (they would hit the zero quota next).
        self.assertEqual(first, "user=-1/28 mnt=-1/1 net=-1/1 pid=-1/1 ipc=-1/1 uts=-1/1 cgroup=-1/1")
        self.assertEqual(quota, "0")

    def test_host_quota_untouched(self):
        with open("/proc/sys/user/max_user_namespaces") as f:
            before = f.read()
        run_py("pass")
        with open("/proc/sys/user/max_user_namespaces") as f:
            self.assertEqual(f.read(), before)
        self.assertNotEqual(before.strip(), "0")


if __name__ == "__main__":
    tbtest.main()
