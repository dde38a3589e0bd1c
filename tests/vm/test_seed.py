"""The seed's three verification tests, under a bare `tightbox run` on the guest's kernel.

The seed runs them with `docker run`; here the sandbox is tightbox's default (the seed's whole
hardened line), and each expectation is the seed's own.
"""
import os
import unittest

import tbtest
import vmlib

CG_PARENT = vmlib.cgroup_parent("seed")
OPTS = (*vmlib.SLOW, "--cgroup-parent", CG_PARENT)


def setUpModule():
    vmlib.need_guest()


def tearDownModule():
    vmlib.remove_cgroup_parent(CG_PARENT)


class Seed(unittest.TestCase):
    def tearDown(self):
        self.assertEqual(tbtest.leftover_cgroups(CG_PARENT), [], "cgroups left behind")

    def test_1_network_is_blocked(self):
        # Expected: socket.gaierror or ConnectionRefusedError
        res = tbtest.run_py("import urllib.request; urllib.request.urlopen('https://example.com')", *OPTS)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertTrue("gaierror" in res["stderr"] or "Name or service not known" in res["stderr"]
                        or "Temporary failure in name resolution" in res["stderr"]
                        or "ConnectionRefusedError" in res["stderr"], res["stderr"])
        # ... and not by accident of DNS: a literal address is unreachable too.
        res = tbtest.run_py("import socket; socket.create_connection(('192.0.2.1', 80), timeout=5)", *OPTS)
        self.assertIn("Network is unreachable", res["stderr"])

    def test_2_fork_bomb_is_contained(self):
        # Expected: exits quickly with BlockingIOError, does NOT hang
        res = tbtest.run_py("import os; [os.fork() for _ in range(1000)]", *OPTS)
        self.assertFalse(res["timed_out"], res)
        self.assertIn("BlockingIOError", res["stderr"])
        self.assertNotEqual(res["exit_code"], 0)

    def test_3_read_only_filesystem(self):
        # Expected: PermissionError or Read-only file system error
        res = tbtest.run_py("open('/etc/pwned', 'w').write('test')", *OPTS)
        self.assertEqual(res["exit_code"], 1)
        self.assertTrue("Read-only file system" in res["stderr"] or "PermissionError" in res["stderr"],
                        res["stderr"])
        self.assertFalse(os.path.exists("/etc/pwned"))


if __name__ == "__main__":
    tbtest.main()
