"""`tightbox explain`'s Python context: import chain, user frame and phase of each denial.

Real processes in the real sandbox. The fixtures (tests/fixtures/pyctx) come in through a volume;
the profiles are the default one without the names each test needs denied.
"""
import json
import os
import subprocess

import tbtest

FIX_HOST = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "pyctx")
VOL = ["-v", FIX_HOST + ":/fx:ro"]
DEFAULT = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
CG_PARENT = "tb-explain-py-test-%d" % os.getpid()
CG = ["--cgroup-parent", CG_PARENT]


def has_numpy():
    return subprocess.run([tbtest.PYTHON, "-c", "import numpy"], capture_output=True).returncode == 0


class ExplainPython(tbtest.CgroupParentCase):
    CG_PARENT = CG_PARENT
    TMP_PREFIX = "tb-explain-py-"
    NEEDS = ((tbtest.PYTHON, "the sandbox's Python"),)

    def profile(self, *deny):
        """The default profile with the names DENY taken out of its allow rules."""
        with open(DEFAULT) as f:
            p = json.load(f)
        for r in p["syscalls"]:
            if r.get("action") == "SCMP_ACT_ALLOW":
                r["names"] = [n for n in r["names"] if n not in deny]
        path = os.path.join(self.tmp.name, "-".join(deny) + ".json")
        with open(path, "w") as f:
            json.dump(p, f)
        return ["--security-opt", "seccomp=" + path]

    def explain(self, *args):
        res, p = tbtest.command_json("explain", *CG, *VOL, *args)
        self.assertNotEqual(p.returncode, 125, p.stderr.decode()[-3000:])
        return res, p

    def denial(self, res, name):
        for d in res["explain"]["denials"]:
            if d["syscall"] == name:
                return d
        self.fail("%s not denied: %s" % (name, [d["syscall"] for d in res["explain"]["denials"]]))

    def test_fixture_chain_user_line_and_survival(self):
        prof = self.profile("getcwd")
        res, _ = self.explain(*prof, "--", tbtest.PYTHON, "/fx/main.py", "x")
        self.assertEqual(res["exit_code"], 0)
        self.assertEqual(res["stdout"], "start\ndone ['x']\n")
        self.assertTrue(res["explain"]["python_context"]["on"])
        d = self.denial(res, "getcwd")
        self.assertEqual(d["python"]["phase"], "import")
        self.assertEqual(d["python"]["import_chain"], ["/fx/main.py:4 import pkg.a", "pkg.b"])
        self.assertEqual(d["python"]["user_frame"], {"file": "/fx/main.py", "line": 4,
                                                     "from": "import"})
        self.assertEqual(d["task_exit"], {"exit_code": 0, "signal": None})
        # The text report says the same, and that the program went on.
        p = tbtest.tightbox("explain", *CG, *VOL, *prof, "--", tbtest.PYTHON, "/fx/main.py")
        err = p.stderr.decode()
        self.assertIn("import chain: /fx/main.py:4 import pkg.a -> pkg.b", err)
        self.assertIn("user code: /fx/main.py:4", err)
        self.assertIn("the program went on: pid 1 exited with status 0", err)

    def test_numpy_chain_names_the_users_line(self):
        if not has_numpy():
            self.skipTest("python3-numpy is not installed")
        # numpy.core._add_newdocs_scalars calls os.uname() while numpy is imported.
        os.chmod(self.tmp.name, 0o755)  # the sandbox's user reads it through the volume
        script = os.path.join(self.tmp.name, "np.py")
        with open(script, "w") as f:
            f.write("import sys\n\nimport numpy\nprint(numpy.__name__)\n")
        res, _ = tbtest.command_json("explain", *CG, "-v", self.tmp.name + ":/t:ro",
                                     *self.profile("uname"), "--", tbtest.PYTHON, "/t/np.py")
        self.assertEqual(res["exit_code"], 1)
        d = self.denial(res, "uname")
        chain = d["python"]["import_chain"]
        self.assertEqual(chain[0], "/t/np.py:3 import numpy")
        self.assertIn("numpy.core._add_newdocs_scalars", chain)
        self.assertEqual(d["python"]["user_frame"]["line"], 3)
        self.assertEqual(d["python"]["phase"], "import")
        self.assertEqual(d["task_exit"]["exit_code"], 1)

    def test_program_sees_the_same_with_and_without_context(self):
        prof = self.profile("getcwd")
        cases = [[tbtest.PYTHON, "/fx/view.py"], [tbtest.PYTHON, "/fx/view.py", "raise"],
                 [tbtest.PYTHON, "/fx/view.py", "exit"], [tbtest.PYTHON, "-u", "/fx/view.py", "a"],
                 [tbtest.PYTHON, "-c", "import sys; print(sys.argv, sys.path[0]); 1/0", "q"],
                 [tbtest.PYTHON, "-m", "json.tool", "/etc/nonexistent"],
                 # An OSError inside importlib itself ('' on sys.path needs getcwd): CPython
                 # shows importlib's frames, and no frame of the bootstrap's wrapper.
                 [tbtest.PYTHON, "-c", "import json"]]
        for cmd in cases:
            with self.subTest(cmd=cmd):
                on, _ = self.explain(*prof, "-w", "/fx", "--", *cmd)
                off, _ = self.explain(*prof, "-w", "/fx", "--no-python-context", "--", *cmd)
                self.assertTrue(on["explain"]["python_context"]["on"])
                self.assertEqual(off["explain"]["python_context"],
                                 {"on": False, "why_not": "off (--no-python-context)"})
                for k in ("stdout", "stderr", "exit_code", "signal"):
                    self.assertEqual(on[k], off[k], k)
        # The traceback is CPython's own: it starts in the program, no bootstrap frame.
        on, _ = self.explain(*prof, "--", tbtest.PYTHON, "/fx/view.py", "raise")
        self.assertTrue(on["stderr"].startswith(
            'to stderr\nTraceback (most recent call last):\n  File "/fx/view.py", line 10, in '
            '<module>\n'), on["stderr"])

    def test_thread_and_fork_child(self):
        res, _ = self.explain(*self.profile("getcwd", "uname"), "--", tbtest.PYTHON,
                              "/fx/threads.py")
        self.assertEqual(res["exit_code"], 0)
        cwd = self.denial(res, "getcwd")["python"]
        self.assertEqual(cwd["phase"], "user")
        self.assertEqual(cwd["user_frame"], {"file": "/fx/threads.py", "line": 6, "from": "open"})
        self.assertNotEqual(self.denial(res, "getcwd")["pid"], 1)  # the thread
        un = self.denial(res, "uname")
        self.assertEqual(un["python"]["import_chain"], ["/fx/threads.py:18 import fxchild"])
        self.assertNotEqual(un["pid"], 1)  # the fork child
        self.assertEqual(un["task_exit"], {"exit_code": 0, "signal": None})

    def test_child_interpreters(self):
        # subprocess.run of a script, os.execv of a -c one-liner, multiprocessing's spawn.
        res, _ = self.explain(*self.profile("uname", "getsid", "getpgid"), "--", tbtest.PYTHON,
                              "/fx/children.py")
        self.assertEqual(res["exit_code"], 0)
        self.assertTrue(res["explain"]["python_context"]["on"])
        un = self.denial(res, "uname")
        self.assertNotEqual(un["pid"], 1)
        self.assertEqual(un["python"]["phase"], "import")
        self.assertEqual(un["python"]["import_chain"], ["/fx/kid.py:5 import fxkid"])
        self.assertEqual(un["python"]["user_frame"], {"file": "/fx/kid.py", "line": 5,
                                                      "from": "import"})
        self.assertEqual(un["task_exit"], {"exit_code": 3, "signal": None})
        sid = self.denial(res, "getsid")
        self.assertNotIn(sid["pid"], (1, un["pid"]))
        self.assertEqual(sid["python"]["phase"], "user")
        self.assertEqual(sid["python"]["user_frame"], {"file": "<string>", "line": 2,
                                                       "from": "open"})
        # The spawned worker: the user's function, not spawn_main's -c line.
        pg = self.denial(res, "getpgid")["python"]
        self.assertEqual(pg["phase"], "user")
        self.assertEqual(pg["user_frame"], {"file": "/fx/children.py", "line": 14,
                                            "from": "open"})
        # What the children printed is what they print without the context.
        off, _ = self.explain(*self.profile("uname", "getsid", "getpgid"),
                              "--no-python-context", "--", tbtest.PYTHON, "/fx/children.py")
        self.assertEqual(res["stdout"], off["stdout"])
        self.assertIn("kid sees ['/fx/kid.py', 'a b', 'c'] ['%s', '/fx/kid.py', 'a b', 'c'] /fx\n"
                      % tbtest.PYTHON, res["stdout"])
        p = tbtest.tightbox("explain", *CG, *VOL, *self.profile("uname", "getsid", "getpgid"),
                            "--", tbtest.PYTHON, "/fx/children.py")
        self.assertIn("import chain: /fx/kid.py:5 import fxkid", p.stderr.decode())

    def test_children_see_the_same_with_and_without_context(self):
        # Options, -c/-m/stdin, a failing exec, a non-Python exec: kidflags.py prints what each
        # child saw (argv, orig_argv, sys.path, flags, environment, output, status).
        prof = self.profile("getcwd")
        on, _ = self.explain(*prof, "--", tbtest.PYTHON, "/fx/kidflags.py")
        off, _ = self.explain(*prof, "--no-python-context", "--", tbtest.PYTHON,
                              "/fx/kidflags.py")
        for k in ("stdout", "stderr", "exit_code", "signal"):
            self.assertEqual(on[k], off[k], k)
        self.assertEqual(on["exit_code"], 5)
        self.assertIn("exec failed 13 ['/tmp/python3.11', '-c', \"print('ran')\", 'x']",
                      on["stdout"])
        self.assertIn("from stdin ['-']", on["stdout"])

    def test_non_python_child_is_untouched(self):
        cmd = ("import subprocess; subprocess.run(['/bin/sh', '-c', "
               "'tr \"\\\\0\" \" \" < /proc/$$/cmdline; uname', 'sh'])")
        prof = self.profile("uname")
        on, _ = self.explain(*prof, "--", tbtest.PYTHON, "-c", cmd)
        off, _ = self.explain(*prof, "--no-python-context", "--", tbtest.PYTHON, "-c", cmd)
        self.assertEqual(on["stdout"], off["stdout"])
        self.assertTrue(on["stdout"].startswith("/bin/sh -c tr "), on["stdout"])
        un = self.denial(on, "uname")
        self.assertNotEqual(un["pid"], 1)
        self.assertIn(un["exe"], ("/usr/bin/uname", "/bin/uname"))
        self.assertIsNone(un["python"])

    def test_two_phase(self):
        # Phase 1 without getrandom (CPython's start-up asks it for the hash seed, then reads
        # /dev/urandom), phase 2 without getcwd (pkg.b calls it while main.py imports it).
        p1 = self.profile("getrandom")
        p2 = self.profile("getcwd")[1].split("=", 1)[1]
        args = (*p1, "--preload", "json", "--two-phase", p2, "--", tbtest.PYTHON, "/fx/main.py",
                "x")
        res, _ = self.explain(*args)
        self.assertEqual(res["exit_code"], 0)
        self.assertEqual(res["stdout"], "start\ndone ['x']\n")
        self.assertTrue(res["explain"]["python_context"]["on"])
        self.assertEqual(self.denial(res, "getrandom")["python"]["phase"], "start-up")
        cwd = self.denial(res, "getcwd")["python"]
        self.assertEqual(cwd["import_chain"], ["/fx/main.py:4 import pkg.a", "pkg.b"])
        self.assertEqual(cwd["user_frame"], {"file": "/fx/main.py", "line": 4, "from": "import"})
        off, _ = self.explain("--no-python-context", *args)
        for k in ("stdout", "stderr", "exit_code", "signal"):
            self.assertEqual(res[k], off[k], k)
        self.assertIsNone(self.denial(off, "getcwd")["python"])
        # Child interpreters of a two-phase program too.
        kids = self.profile("uname", "getsid", "getpgid")[1].split("=", 1)[1]
        res, _ = self.explain("--two-phase", kids, "--", tbtest.PYTHON, "/fx/children.py")
        self.assertEqual(self.denial(res, "uname")["python"]["import_chain"],
                         ["/fx/kid.py:5 import fxkid"])

    def test_not_python(self):
        res, p = self.explain(*self.profile("getcwd"), "--", "/bin/sh", "-c", "pwd; exit 0")
        self.assertEqual(res["explain"]["python_context"],
                         {"on": False, "why_not": "not a Python program (/bin/sh)"})
        self.assertIsNone(self.denial(res, "getcwd")["python"])
        p = tbtest.tightbox("explain", *CG, *self.profile("getcwd"), "--", "/bin/sh", "-c", "pwd")
        self.assertIn("Python context: not a Python program (/bin/sh)", p.stderr.decode())

    def test_no_python_context_also_for_run_explain(self):
        for mode in (["explain"], ["run", "--explain"]):
            with self.subTest(mode=mode):
                res, _ = tbtest.command_json(*mode, *CG, *VOL, *self.profile("getcwd"),
                                             "--no-python-context", "--", tbtest.PYTHON,
                                             "/fx/main.py")
                self.assertIsNone(self.denial(res, "getcwd")["python"])
                on, _ = tbtest.command_json(*mode, *CG, *VOL, *self.profile("getcwd"), "--",
                                            tbtest.PYTHON, "/fx/main.py")
                self.assertEqual(self.denial(on, "getcwd")["python"]["phase"], "import")

    def test_forged_markers_change_no_verdict(self):
        prof = self.profile("getcwd")
        plain, _ = tbtest.run_json(*CG, *VOL, *prof, "--", tbtest.PYTHON, "/fx/forge.py")
        res, _ = self.explain(*prof, "--", tbtest.PYTHON, "/fx/forge.py")
        self.assertEqual(res["stdout"], plain["stdout"])
        self.assertEqual(res["stdout"], "write EBADF\nwrite EBADF\nwrite EBADF\ngetcwd ENOSYS\n")
        self.assertEqual(res["exit_code"], plain["exit_code"])
        self.assertEqual([d["syscall"] for d in res["explain"]["denials"]], ["getcwd"])
        self.assertEqual(res["explain"]["total_denied"], 1)
        self.assertEqual(self.denial(res, "getcwd")["count"], 1)


if __name__ == "__main__":
    tbtest.main()
