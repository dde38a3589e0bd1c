"""kill(0, SIG) from the sandbox must not reach the caller's process group, on a kernel whose
Landlock cannot scope signals (ABI < 6): only the sandbox being a session of its own stops it.

The sentinel is a process of the sandbox's uid in the caller's process group: the one a signal
from the sandbox is allowed to reach when nothing else stands in the way.
"""
import os
import signal
import subprocess
import tempfile
import unittest

import tbtest
import vmlib

CG = ("--cgroup-parent", vmlib.cgroup_parent("kill0"))
CODE = ("import os, signal\n"
        "try:\n    os.kill(0, signal.SIGTERM); print('sent')\n"
        "except OSError as e:\n    print('refused', e.errno)\n"
        "print(os.getpgrp() == os.getpid() or os.getsid(0) == os.getpid() or 'same-group')")


def setUpModule():
    vmlib.need_guest()


def tearDownModule():
    vmlib.remove_cgroup_parent(CG[1])


class KillZero(unittest.TestCase):
    def check(self, *mode):
        sentinel = subprocess.Popen(["/bin/sleep", "600"], user=65534, group=65534)
        try:
            self.assertEqual(os.getpgid(sentinel.pid), os.getpgrp())
            p = tbtest.tightbox(*mode, *CG, *vmlib.SLOW, "--", tbtest.PYTHON, "-c", CODE, timeout=300)
            alive = sentinel.poll() is None
        finally:
            sentinel.kill()
            sentinel.wait()
        self.assertTrue(alive, "kill(0) from the sandbox (%s) killed a process in the caller's group "
                        "(sandbox said %r)" % (" ".join(mode), p.stdout))
        self.assertNotEqual(sentinel.returncode, -signal.SIGTERM)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_run(self):
        self.check("run")

    def test_explain(self):
        self.check("explain")

    def test_record(self):
        with tempfile.TemporaryDirectory() as d:
            self.check("record", "--backend", "ptrace", "-o", os.path.join(d, "rec.json"))


if __name__ == "__main__":
    tbtest.main()
