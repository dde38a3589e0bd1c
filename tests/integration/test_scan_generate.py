"""`tightbox generate --scan`, then `tightbox run` (issue 9).

A recording of `python3 -c 'print(1)'` alone gives a profile under which `python3 -X faulthandler`
fails (sigaltstack gets ENOSYS). With a scan of the same interpreter, the statically reachable
names join in, each in its own commented rule, and faulthandler works; a dangerous name the scan
reaches (os.chroot imports chroot) stays EPERM.
"""
import json
import os
import re
import shutil
import tempfile
import unittest

import tbtest


class ScanGenerate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        cls.tmp = tempfile.mkdtemp(prefix="tb-scan-generate-")
        cls.rec = os.path.join(cls.tmp, "rec.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", cls.rec, "--", tbtest.PYTHON,
                            "-c", "print(1)")
        assert p.returncode == 0, p.stderr
        cls.scan = os.path.join(cls.tmp, "scan.json")
        # The interpreter and lib-dynload only (no site package is named "-").
        p = tbtest.tightbox("scan", "-q", "--python", tbtest.PYTHON, "--packages", "-", "-o", cls.scan)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def generate(self, name, *args):
        out = os.path.join(self.tmp, name)
        os.mkdir(out)
        p = tbtest.tightbox("generate", "-o", out, *args, self.rec)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out, p.stdout.decode()

    def run_py(self, out, *argv):
        return tbtest.run_json("--security-opt", "seccomp=" + os.path.join(out, "seccomp.json"),
                               "--", tbtest.PYTHON, *argv)[0]

    def test_recorded_only_breaks_faulthandler(self):
        out, _ = self.generate("plain")
        res = self.run_py(out, "-X", "faulthandler", "-c", "print(1)")
        self.assertNotEqual(res["exit_code"], 0, res)
        self.assertIn("Function not implemented", res["stderr"])

    def test_with_scan(self):
        out, summary = self.generate("scanned", "--scan", self.scan)
        m = re.search(r"x86_64: recorded (\d+), static-only (\d+) \(--static safe\), dangerous-denied (\d+)",
                      summary)
        self.assertTrue(m, summary)
        self.assertGreater(int(m.group(2)), 0)
        self.assertGreater(int(m.group(3)), 0)
        with open(os.path.join(out, "seccomp.json")) as f:
            prof = json.load(f)
        comments = [r.get("comment", "") for r in prof["syscalls"] if "sigaltstack" in r["names"]]
        self.assertEqual(len(comments), 1, comments)
        self.assertTrue(comments[0].startswith("static: python3.11 imports sigaltstack"), comments)
        res = self.run_py(out, "-X", "faulthandler", "-c", "print(1)")
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertEqual(res["stdout"], "1\n")
        # Reachable but dangerous: still EPERM.
        res = self.run_py(out, "-c", "import os\ntry:\n os.chroot('/')\nexcept OSError as e:\n print(e.errno)")
        self.assertEqual(res["stdout"], "1\n", res)
        eperm = [r for r in prof["syscalls"] if "chroot" in r["names"]]
        self.assertEqual([r["errnoRet"] for r in eperm], [1])

    def test_static_none_is_recording_only(self):
        a, _ = self.generate("none-a")
        b, _ = self.generate("none-b", "--scan", self.scan, "--static", "none")
        with open(os.path.join(a, "seccomp.json")) as fa, open(os.path.join(b, "seccomp.json")) as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_bad_scan(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"format": "tightbox-scan", "version": 1, "provenance": {"arch": "x86_64"}, '
                    '"syscalls": [{"name": "read"}]}')
        out = os.path.join(self.tmp, "bad-out")
        os.mkdir(out)
        p = tbtest.tightbox("generate", "-o", out, "--scan", bad, self.rec)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"syscalls[0]", p.stderr)
        self.assertEqual(os.listdir(out), [])
        p = tbtest.tightbox("generate", "-o", out, "--static", "all", self.rec)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    tbtest.main()
