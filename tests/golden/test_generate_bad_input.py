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
        """-o naming a file is refused (exit 2) and the file is left as it was."""
        path = os.path.join(self.out, "afile")
        with open(path, "w") as f:
            f.write("keep\n")
        p = tbtest.tightbox("generate", "-o", path, os.path.join(HERE, "rec-hello.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"not a directory", p.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "keep\n")

    def test_output_folder_is_created(self):
        """The README's `generate -o policy/ rec.json` works when policy/ does not exist yet."""
        out = os.path.join(self.out, "policy") + "/"
        p = tbtest.tightbox("generate", "-q", "-o", out, os.path.join(HERE, "rec-hello.json"))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(sorted(os.listdir(out)),
                         ["landlock.json", "seccomp.json", "tightbox-sandbox"])
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o755 & ~current_umask())

    def test_output_folder_not_created_on_bad_input(self):
        out = os.path.join(self.out, "policy")
        p = tbtest.tightbox("generate", "-o", out, os.path.join(HERE, "no-such.json"))
        self.assertEqual(p.returncode, 2)
        self.assertFalse(os.path.exists(out))
        p = tbtest.tightbox("generate", "-o", os.path.join(self.out, "a", "b"),
                            os.path.join(HERE, "rec-hello.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot create the folder", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, "a")))


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


if __name__ == "__main__":
    tbtest.main()
