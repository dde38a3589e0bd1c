"""`tightbox generate` on bad input: a clear error naming the file and the problem, exit 2, and no
output file at all (not even a temporary one) in the output directory."""
import os
import shutil
import tempfile
import unittest

import tbtest

HERE = os.path.join(tbtest.SOURCE_DIR, "tests", "golden", "generate")


class BadInput(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="tb-gen-bad-")

    def tearDown(self):
        shutil.rmtree(self.out)

    def check(self, args, must_say, files=()):
        paths = [os.path.join(HERE, f) for f in files]
        p = tbtest.tightbox("generate", "-o", self.out, *args, *paths)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 2, err)
        for s in must_say:
            self.assertIn(s, err)
        self.assertEqual(os.listdir(self.out), [], "partial output left behind")
        self.assertEqual(p.stdout, b"")
        return err

    def test_empty(self):
        self.check([], ["bad/empty.json", "empty"], ["bad/empty.json"])

    def test_truncated(self):
        # file:line:column of the JSON error
        err = self.check([], ["bad/truncated.json:"], ["bad/truncated.json"])
        self.assertRegex(err, r"truncated\.json:\d+:\d+: ")

    def test_foreign(self):
        self.check([], ["bad/foreign.json", "tightbox-recording"], ["bad/foreign.json"])

    def test_no_syscalls(self):
        self.check([], ["bad/no-syscalls.json", "no syscalls"], ["bad/no-syscalls.json"])

    def test_other_arch_without_arch_flag(self):
        self.check([], ["rec-aarch64.json", "aarch64", "--arch"], ["rec-aarch64.json"])

    def test_one_bad_among_good(self):
        # The good recordings come first: still nothing written.
        self.check([], ["bad/truncated.json"], ["rec-hello.json", "rec-legacy.json", "bad/truncated.json"])

    def test_missing_file(self):
        self.check([], ["no-such.json"], ["no-such.json"])

    def test_bad_flags(self):
        self.check(["--arch", "x86_64,vax"], ["vax"], ["rec-hello.json"])
        self.check(["--args", "paranoid"], ["paranoid"], ["rec-hello.json"])
        self.check(["--runtime", "crun"], ["crun"], ["rec-hello.json"])
        self.check(["--name", "../etc/passwd"], ["--name"], ["rec-hello.json"])
        self.check([], ["no recordings"])

    def test_output_not_a_directory(self):
        p = tbtest.tightbox("generate", "-o", os.path.join(self.out, "nope"),
                            os.path.join(HERE, "rec-hello.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"not a directory", p.stderr)


if __name__ == "__main__":
    tbtest.main()
