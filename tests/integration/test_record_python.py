"""`tightbox record`'s Python context and `generate --per-import` / `--imports`.

Real recordings (ptrace backend) of the fixtures in tests/fixtures/pyctx, and a composed profile
run with real processes.
"""
import json
import os
import subprocess

import tbtest

FIX_HOST = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "pyctx")
VOL = ["-v", FIX_HOST + ":/fx:ro"]
CG_PARENT = "tb-record-py-test-%d" % os.getpid()
CG = ["--cgroup-parent", CG_PARENT]


class RecordPython(tbtest.CgroupParentCase):
    CG_PARENT = CG_PARENT
    TMP_PREFIX = "tb-record-py-"
    NEEDS = ((tbtest.PYTHON, "the sandbox's Python"),)

    def record(self, name, *args, opts=()):
        out = os.path.join(self.tmp.name, name + ".json")
        p = tbtest.tightbox("record", "--backend", "ptrace", *CG, *VOL, *opts, "-o", out, "--",
                            tbtest.PYTHON, *args)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        with open(out) as f:
            return out, json.load(f)

    def test_first_use_and_imports(self):
        _, rec = self.record("quiet", "/fx/quiet.py")
        ctx = rec["python_context"]
        first = ctx["first_use"]["x86_64"]
        self.assertEqual(first["getcwd"], {"phase": "import", "user_frame": "/fx/quiet.py:1",
                                           "import_chain": ["/fx/quiet.py:1 import pkg.a",
                                                            "pkg.b"]})
        self.assertEqual(first["execve"]["phase"], "start-up")
        self.assertIn("getcwd", ctx["imports"]["pkg"]["x86_64"])
        # The markers are no call of the program's: this one never writes.
        self.assertNotIn("write", rec["syscalls"]["x86_64"])
        _, off = self.record("quiet-off", "/fx/quiet.py", opts=["--no-python-context"])
        self.assertNotIn("python_context", off)
        self.assertEqual(sorted(off["syscalls"]["x86_64"]), sorted(rec["syscalls"]["x86_64"]))

    def test_child_interpreters(self):
        _, rec = self.record("kids", "/fx/children.py")
        ctx = rec["python_context"]
        first = ctx["first_use"]["x86_64"]
        # The parent never calls these: each is a child interpreter's first use.
        self.assertEqual(first["uname"], {"phase": "import", "user_frame": "/fx/kid.py:5",
                                          "import_chain": ["/fx/kid.py:5 import fxkid"]})
        self.assertEqual(first["getsid"], {"phase": "user", "user_frame": "<string>:2",
                                           "import_chain": []})
        self.assertEqual(first["getpgid"]["user_frame"], "/fx/children.py:14")
        self.assertIn("uname", ctx["imports"]["fxkid"]["x86_64"])
        # A non-Python command has no context of its own, but its Python children do.
        out = os.path.join(self.tmp.name, "sh.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", *CG, *VOL, "-o", out, "--",
                            "/bin/sh", "-c", "exec %s /fx/kid.py" % tbtest.PYTHON)
        self.assertEqual(p.returncode, 3, p.stderr.decode()[-2000:])  # kid.py's status
        with open(out) as f:
            sh = json.load(f)
        self.assertEqual(sh["python_context"]["first_use"]["x86_64"]["uname"]["import_chain"],
                         ["/fx/kid.py:5 import fxkid"])
        # The runner's execve of /bin/sh is no Python call.
        self.assertNotIn("execve", sh["python_context"]["first_use"]["x86_64"])

    def test_merge_keeps_the_context(self):
        a, _ = self.record("m-a", "/fx/quiet.py")
        b, _ = self.record("m-b", "/fx/usejson.py")
        out = os.path.join(self.tmp.name, "merged.json")
        p = tbtest.tightbox("record", "--merge", a, b, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(out) as f:
            m = json.load(f)
        self.assertEqual(sorted(m["python_context"]["imports"]), ["json", "pkg"])
        self.assertEqual(m["python_context"]["first_use"]["x86_64"]["getcwd"]["phase"], "import")

    def test_bpf_says_it_has_no_context(self):
        out = os.path.join(self.tmp.name, "bpf.json")
        p = tbtest.tightbox("record", "--backend", "bpf", *CG, *VOL, "-o", out, "--",
                            tbtest.PYTHON, "/fx/quiet.py")
        if p.returncode != 0:
            self.skipTest("the bpf backend does not run here: %s" % p.stderr.decode()[-300:])
        self.assertIn(b"the Python context needs --backend ptrace", p.stderr)
        with open(out) as f:
            self.assertNotIn("python_context", json.load(f))

    def test_per_import_fragments_compose_a_profile(self):
        if subprocess.run([tbtest.PYTHON, "-c", "import numpy"], capture_output=True).returncode:
            self.skipTest("python3-numpy is not installed")
        base, _ = self.record("base", "/fx/empty.py")
        both, _ = self.record("jn", "/fx/jsonnumpy.py")
        frag = os.path.join(self.tmp.name, "frag")
        p = tbtest.tightbox("generate", "--per-import", frag, both)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(sorted(os.listdir(frag)), ["json.json", "numpy.json"])
        with open(os.path.join(frag, "numpy.json")) as f:
            np = json.load(f)
        self.assertEqual(np["provenance"]["workload"], "import numpy")
        self.assertIn("uname", np["syscalls"]["x86_64"])  # numpy.core._add_newdocs_scalars
        out = os.path.join(self.tmp.name, "composed")
        p = tbtest.tightbox("generate", "--imports", "json", "--per-import-dir", frag, "-o", out,
                            base)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        prof = ["--security-opt", "seccomp=" + os.path.join(out, "seccomp.json")]
        ok, _ = tbtest.run_json(*CG, *VOL, *prof, "--", tbtest.PYTHON, "/fx/usejson.py")
        self.assertEqual((ok["exit_code"], ok["stdout"]), (0, "[1, 2]\n"), ok["stderr"])
        no, _ = tbtest.run_json(*CG, *VOL, *prof, "--", tbtest.PYTHON, "/fx/usenumpy.py")
        self.assertNotEqual(no["exit_code"], 0)  # numpy is not in the list
        self.assertIn("OSError", no["stderr"])
        # With numpy in the list it runs.
        out2 = os.path.join(self.tmp.name, "composed2")
        p = tbtest.tightbox("generate", "--imports", "json,numpy", "--per-import-dir", frag,
                            "-o", out2, base)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        yes, _ = tbtest.run_json(*CG, *VOL, "--security-opt",
                                 "seccomp=" + os.path.join(out2, "seccomp.json"), "--",
                                 tbtest.PYTHON, "/fx/usenumpy.py")
        self.assertEqual(yes["exit_code"], 0, yes["stderr"])

    def test_imports_bad_input(self):
        base, _ = self.record("bad-base", "/fx/empty.py")
        frag = os.path.join(self.tmp.name, "nofrag")
        os.makedirs(frag, exist_ok=True)
        p = tbtest.tightbox("generate", "--imports", "sqlite3", "--per-import-dir", frag,
                            "-o", os.path.join(self.tmp.name, "x"), base)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"no fragment for sqlite3", p.stderr)
        p = tbtest.tightbox("generate", "--imports", "os.path", "--per-import-dir", frag, base)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--imports: expected comma-separated", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x")))


if __name__ == "__main__":
    tbtest.main()
