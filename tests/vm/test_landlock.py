"""Landlock on an older ABI (the guest's 6.1 has ABI 2): tightbox enforces the subset the kernel
knows, never refuses to start, and says which parts of the ruleset the kernel cannot enforce."""
import json
import os
import tempfile
import unittest

import tbtest
import vmlib

CG = ("--cgroup-parent", vmlib.cgroup_parent("landlock"))


def setUpModule():
    vmlib.need_guest()
    if not 0 < vmlib.landlock_abi() < 6:
        raise unittest.SkipTest("needs a kernel with Landlock ABI 1..5, this one has %d" % vmlib.landlock_abi())


def tearDownModule():
    vmlib.remove_cgroup_parent(CG[1])


def ruleset(tmp, **extra):
    """/tmp readable but not writable by Landlock (the tmpfs mount itself is writable)."""
    rs = {"format": "tightbox-landlock", "version": 1,
          "handled_access_fs": ["execute", "make_dir", "make_reg", "read_dir", "read_file", "remove_file",
                                "truncate", "write_file"],
          "rules": [{"path": "/", "access": ["execute", "read_dir", "read_file"]},
                    {"path": "/tmp", "access": ["read_dir", "read_file"]}]}
    rs.update(extra)
    path = os.path.join(tmp, "landlock-%d.json" % len(os.listdir(tmp)))
    with open(path, "w") as f:
        json.dump(rs, f)
    return path


WRITE_TMP = ("import errno\ntry:\n    open('/tmp/x', 'w'); print('written')\n"
             "except OSError as e:\n    print(errno.errorcode[e.errno])")


class OlderAbi(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tb-vm-ll-")

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def run_with(self, path, code=WRITE_TMP):
        res, p = tbtest.run_json(*CG, *vmlib.SLOW, "--security-opt", "landlock=" + path, "--",
                                 tbtest.PYTHON, "-c", code)
        return res, p.stderr.decode()

    def test_the_known_subset_is_enforced(self):
        res, _ = self.run_with(ruleset(self.tmp))
        self.assertEqual(res["stdout"], "EACCES\n", res)
        # ... and the denial is Landlock's: without the ruleset the same write works.
        res, _ = tbtest.run_json(*CG, *vmlib.SLOW, "--", tbtest.PYTHON, "-c", WRITE_TMP)
        self.assertEqual(res["stdout"], "written\n", res)

    def test_newer_parts_are_reported_not_enforced(self):
        abi = vmlib.landlock_abi()
        res, err = self.run_with(ruleset(self.tmp, net={"restrict": True, "bind_tcp": [], "connect_tcp": [80]},
                                         scope=["abstract_unix_socket", "signal"]))
        self.assertEqual(res["stdout"], "EACCES\n", res)  # it still runs, with what the kernel has
        self.assertIn("Landlock ABI %d" % abi, err)
        for part in ("signal", "abstract_unix_socket", "tcp"):
            self.assertIn(part, err)
        if abi < 3:
            self.assertIn("truncate", err)

    def test_builtin_ruleset_reports_what_it_lacks(self):
        res, p = tbtest.run_json(*CG, *vmlib.SLOW, "--", tbtest.PYTHON, "-c", "print('ok')")
        self.assertEqual(res["stdout"], "ok\n")
        err = p.stderr.decode()
        self.assertIn("Landlock ABI %d" % vmlib.landlock_abi(), err)
        self.assertIn("signal", err)

    def test_a_ruleset_within_the_abi_is_quiet(self):
        path = ruleset(self.tmp, handled_access_fs=["execute", "read_dir", "read_file", "write_file"],
                       rules=[{"path": "/", "access": ["execute", "read_dir", "read_file"]}])
        res, err = self.run_with(path)
        self.assertEqual(res["stdout"], "EACCES\n", res)
        self.assertNotIn("Landlock", err)


if __name__ == "__main__":
    tbtest.main()
