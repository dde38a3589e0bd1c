"""Unprivileged use: a user namespace replaces root, limits fall back to rlimits with a warning, and
the sandbox still holds (uid 65534 inside, no capabilities, read-only root, no network)."""
import json
import os
import subprocess
import unittest

import tbtest

USER = 1000  # any unprivileged uid with no other role in the tests


def setUpModule():
    tbtest.need_root()  # root is needed to become the unprivileged user
    tbtest.need_cmd("setpriv")
    try:
        with open("/proc/sys/kernel/unprivileged_userns_clone") as f:
            if f.read().strip() == "0":
                raise unittest.SkipTest("unprivileged user namespaces are disabled")
    except FileNotFoundError:
        pass


def run_unprivileged(*args):
    env = {"PATH": "/usr/bin:/bin", "TIGHTBOX_PROFILE_DIR": os.path.join(tbtest.SOURCE_DIR, "profiles")}
    cmd = ["setpriv", "--reuid", str(USER), "--regid", str(USER), "--clear-groups",
           tbtest.TIGHTBOX, "run", "--json", *args]
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    return json.loads(p.stdout), p


class Rootless(unittest.TestCase):
    def test_sandbox_holds_without_root(self):
        code = ("import os, socket\n"
                "st = open('/proc/self/status').read()\n"
                "caps = [l.split()[1] for l in st.splitlines() if l.startswith('Cap')]\n"
                "try:\n    open('/etc/x', 'w'); w = 'wrote'\nexcept OSError as e:\n    w = e.errno\n"
                "ifs = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
                "print(os.getuid(), set(caps), w, ifs, sorted(p for p in os.listdir('/proc') if p.isdigit()))")
        res, p = run_unprivileged("--", tbtest.PYTHON, "-c", code)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(res["stdout"], "65534 {'0000000000000000'} 30 ['lo'] ['1']\n")
        self.assertIn(b"no cgroup could be created", p.stderr)

    def test_memory_falls_back_to_rlimit(self):
        res, _ = run_unprivileged("--memory", "64m", "--", tbtest.PYTHON, "-c",
                                  "x = bytearray(200 * 1024 * 1024); print('allocated')")
        self.assertIn("MemoryError", res["stderr"])
        self.assertEqual(res["exit_code"], 1)

    def test_timeout_kills_tree(self):
        res, p = run_unprivileged("--timeout", "0.5", "--", "/bin/sleep", "30")
        self.assertTrue(res["timed_out"])
        self.assertEqual(p.returncode, 124)


if __name__ == "__main__":
    tbtest.main()
