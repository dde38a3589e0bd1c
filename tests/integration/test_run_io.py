#!/usr/bin/env python3
"""Run I/O for apps: --code, -i, --script of any mode, head+tail capture, the writable /sandbox
working directory, --input and --output-dir (bounds, symlinks, devices, setuid bits)."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import tbtest


class RunIOTest(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()  # the working directory is a tmpfs tightbox mounts
        self.tmp = tempfile.mkdtemp(prefix="tb-run-io-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name, content=None, mode=0o600):
        p = os.path.join(self.tmp, name)
        if content is not None:
            with open(p, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
            os.chmod(p, mode)
        return p

    def test_code_string(self):
        res, p = tbtest.run_json("--code", "import sys; print('hi', sys.argv[0])")
        self.assertEqual(res["stdout"], "hi /sandbox/script.py\n", res)
        self.assertEqual(p.returncode, 0)
        # A traceback names the script file.
        res, p = tbtest.run_json("--code", "raise ValueError('boom')")
        self.assertEqual(p.returncode, 1)
        self.assertIn('File "/sandbox/script.py", line 1', res["stderr"])
        res, p = tbtest.run_json("--code", "1", "--script", self.path("s.py", "1"))
        self.assertEqual(p.returncode, 125)
        self.assertIn("--code and --script", res["error"])

    def test_interactive_stdin(self):
        p = tbtest.tightbox("run", "-i", "--", tbtest.PYTHON, "-", input=b"print(42)\n")
        self.assertEqual((p.returncode, p.stdout), (0, b"42\n"), p.stderr)
        res, p = tbtest.run_json("-i", "--code", "import sys; print(len(sys.stdin.read()))",
                                 input=b"x" * 5000)
        self.assertEqual(res["stdout"], "5000\n")
        self.assertEqual((res["stdin_bytes"], res["stdin_truncated"]), (5000, False))
        # Bounded: beyond --stdin-limit nothing is passed on, and the JSON says so.
        res, p = tbtest.run_json("-i", "--stdin-limit", "1k", "--code",
                                 "import sys; print(len(sys.stdin.read()))", input=b"y" * 100000)
        self.assertEqual(res["stdout"], "1024\n")
        self.assertEqual((res["stdin_bytes"], res["stdin_truncated"]), (1024, True))
        # Without -i the sandbox reads nothing.
        res, _ = tbtest.run_json("--code", "import sys; print(repr(sys.stdin.read()))", input=b"z")
        self.assertEqual(res["stdout"], "''\n")

    def test_script_any_mode(self):
        # A NamedTemporaryFile is 0600 root-owned: the sandbox user could not read a bind of it.
        with tempfile.NamedTemporaryFile("w", suffix=".py", dir=self.tmp) as f:
            f.write("print('read me')\n")
            f.flush()
            self.assertEqual(stat.S_IMODE(os.stat(f.name).st_mode), 0o600)
            res, p = tbtest.run_json("--script", f.name)
        self.assertEqual((p.returncode, res["stdout"]), (0, "read me\n"), res)
        res, p = tbtest.run_json("--script", self.path("m.py", "print(1)", 0o000))
        self.assertEqual(res["stdout"], "1\n", res)

    def test_head_and_tail_capture(self):
        code = ("import sys\nfor i in range(400):\n    print('warning %d' % i, file=sys.stderr)\n"
                "raise ValueError('the real problem')\n")
        res, p = tbtest.run_json("--code", code)
        self.assertEqual(p.returncode, 1)
        err = res["stderr"]
        self.assertTrue(err.startswith("warning 0\n"), err[:100])
        self.assertTrue(err.endswith("ValueError: the real problem\n"), err[-200:])
        self.assertTrue(res["stderr_truncated"])
        self.assertGreater(res["stderr_omitted"], 0)
        self.assertIn("[tightbox: %d bytes omitted]" % res["stderr_omitted"], err)
        # head (1000) + tail (1000) + omitted = everything produced
        self.assertEqual(res["stderr_bytes"], 2000 + res["stderr_omitted"])
        # Within the limit: everything, no marker.
        res, _ = tbtest.run_json("--stdout-limit", "100", "--code", "print('a' * 99)")
        self.assertEqual((res["stdout"], res["stdout_omitted"], res["stdout_truncated"]),
                         ("a" * 99 + "\n", 0, False))
        # Without --json the same parts reach the terminal, the first 'limit' bytes live.
        p = tbtest.tightbox("run", "--stdout-limit", "20", "--code",
                            "print('a' * 15); print('b' * 30); print('c' * 5)")
        self.assertEqual(p.stdout, b"a" * 15 + b"\n" + b"b" * 4 + b"\n[tightbox: 23 bytes omitted]\n"
                         + b"bbb\nccccc\n")
        self.assertIn(b"33 of 53 bytes omitted", p.stderr)

    def test_writable_workdir(self):
        code = ("import os, pandas as pd\nprint(os.getcwd())\n"
                "pd.DataFrame({'x': [1, 2]}).to_csv('out.csv')\nprint(open('out.csv').read())\n"
                "import shutil; shutil.copy('/bin/true', 't'); os.chmod('t', 0o755)\n"
                "try:\n    os.execv('./t', ['t'])\nexcept PermissionError:\n    print('noexec')\n")
        # pandas takes seconds of wall time on a loaded machine: a generous timeout.
        res, p = tbtest.run_json("--timeout", "120", "--code", code)
        self.assertEqual(p.returncode, 0, res)
        self.assertEqual(res["stdout"], "/sandbox\n,x\n0,1\n1,2\n\nnoexec\n")
        # Size-limited.
        res, p = tbtest.run_json("--workdir-size", "1m", "--code",
                                 "open('big', 'wb').write(b'x' * (4 << 20))")
        self.assertEqual(p.returncode, 1)
        self.assertIn("No space left on device", res["stderr"])

    def test_input_files(self):
        data = self.path("data.csv", "a,b\n1,2\n", 0o600)
        other = self.path("x.bin", b"\x00\x01", 0o000)
        res, p = tbtest.run_json("--input", data, "--input", other + ":renamed.bin", "--code",
                                 "import os; print(sorted(os.listdir('.'))); print(open('data.csv').read(), end='');"
                                 "open('data.csv', 'a').write('3,4\\n'); print(len(open('renamed.bin','rb').read()))")
        self.assertEqual(p.returncode, 0, res)
        self.assertEqual(res["stdout"], "['data.csv', 'renamed.bin', 'script.py']\na,b\n1,2\n2\n")
        # The host file is a copy's source, never written.
        with open(data) as f:
            self.assertEqual(f.read(), "a,b\n1,2\n")
        for bad, msg in (("/nonexistent", "No such file"), (self.tmp, "not a regular file"),
                         (data + ":out", "FILE[:NAME]"), (data + ":..", "FILE[:NAME]")):
            res, p = tbtest.run_json("--input", bad, "--code", "print(1)")
            self.assertEqual(p.returncode, 125, bad)
            self.assertIn(msg, res["error"], bad)
        # A symlink anywhere in the path is refused, as for --script and --volume sources.
        link = os.path.join(self.tmp, "link.csv")
        os.symlink(data, link)
        res, p = tbtest.run_json("--input", link, "--code", "print(1)")
        self.assertEqual(p.returncode, 125)
        self.assertIn("symbolic link", res["error"])
        res, p = tbtest.run_json("--input", data, "--input", data, "--code", "1")
        self.assertIn("a second file named 'data.csv'", res["error"])
        big = self.path("big", b"x" * (2 << 20))
        res, p = tbtest.run_json("--workdir-size", "1m", "--input", big, "--code", "1")
        self.assertEqual(p.returncode, 125)
        self.assertIn("does not fit in the working directory", res["error"])

    def test_output_dir(self):
        out = os.path.join(self.tmp, "out")
        code = ("import os\nos.makedirs('out/sub/deeper')\nopen('out/a.txt', 'w').write('A')\n"
                "open('out/sub/deeper/b.bin', 'wb').write(b'B' * 10)\n"
                "os.symlink('/etc/passwd', 'out/link')\nos.symlink('/etc', 'out/dirlink')\n"
                "open('out/s', 'w').write('s'); os.chmod('out/s', 0o6755)\n"
                "print(oct(os.stat('out/s').st_mode & 0o7777))\n"
                "open('not-copied.txt', 'w').write('outside out/')\n")
        res, p = tbtest.run_json("--output-dir", out, "--code", code)
        self.assertEqual(p.returncode, 0, res)
        self.assertEqual(res["stdout"], "0o6755\n")
        self.assertEqual((res["output"]["files"], res["output"]["bytes"]), (3, 12))
        self.assertEqual(sorted(res["output"]["skipped"]),
                         ["dirlink: symlink (not followed)", "link: symlink (not followed)"])
        found = sorted(os.path.relpath(os.path.join(d, f), out)
                       for d, dirs, files in os.walk(out) for f in files + dirs)
        self.assertEqual(found, ["a.txt", "s", "sub", "sub/deeper", "sub/deeper/b.bin"])
        self.assertEqual(stat.S_IMODE(os.lstat(os.path.join(out, "s")).st_mode), 0o755)
        with open(os.path.join(out, "sub", "deeper", "b.bin"), "rb") as f:
            self.assertEqual(f.read(), b"B" * 10)
        # Bounds: files and bytes; what was left out is listed.
        out2 = os.path.join(self.tmp, "out2")
        res, p = tbtest.run_json("--output-dir", out2, "--output-max-files", "3", "--output-max-bytes", "1k",
                                 "--code", "for i in range(10): open('out/f%d' % i, 'w').write('x' * 100)\n"
                                 "open('out/huge', 'w').write('y' * 5000)")
        self.assertEqual(p.returncode, 0, res)
        self.assertEqual(res["output"]["files"], 3)
        self.assertLessEqual(res["output"]["bytes"], 1024)
        self.assertEqual(len(os.listdir(out2)), 3)
        self.assertTrue(any("over --output-max" in s for s in res["output"]["skipped"]))
        # Existing files are never replaced; a file as --output-dir is refused before the run.
        res, p = tbtest.run_json("--output-dir", out, "--code", "open('out/a.txt', 'w').write('new')")
        with open(os.path.join(out, "a.txt")) as f:
            self.assertEqual(f.read(), "A")
        self.assertIn("a.txt: File exists", res["output"]["skipped"])
        res, p = tbtest.run_json("--output-dir", os.path.join(out, "a.txt"), "--code", "print(1)")
        self.assertEqual(p.returncode, 125)
        self.assertIn("not a directory", res["error"])
        # No --output-dir: "output" is null.
        res, _ = tbtest.run_json("--code", "print(1)")
        self.assertIsNone(res["output"])

    def test_output_dir_symlink_target_not_followed(self):
        # The host directory itself being a symlink is refused (O_NOFOLLOW): no redirect.
        real = os.path.join(self.tmp, "real")
        os.mkdir(real)
        link = os.path.join(self.tmp, "link")
        os.symlink(real, link)
        res, p = tbtest.run_json("--output-dir", link, "--code", "open('out/x', 'w').write('x')")
        self.assertEqual(p.returncode, 125, res)
        self.assertEqual(os.listdir(real), [])


if __name__ == "__main__":
    tbtest.main()
