"""`tightbox explain`: names what the profile denied, and the program sees what plain `run` gives it.

Every test runs the real binary in the real sandbox, and where the program's own view matters
(errno, siginfo, exit status) it runs the same command under plain `tightbox run` and compares.
"""
import json
import os
import signal
import subprocess

import tbtest

SEED = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "seed-profile.json")
CORRECTED = os.path.join(tbtest.SOURCE_DIR, "profiles", "seed-corrected.json")
PROBE_HOST = tbtest.probe("explain-denied")
# The sandbox shows only system folders of the host: the probes come in through a volume.
PROBE = "/probes/explain-denied"
VOL = ["-v", tbtest.PROBES + ":/probes:ro"]
# Our own cgroup parent, so the leak check does not see other suites' sandboxes running meanwhile.
CG_PARENT = "tb-explain-test-%d" % os.getpid()
CG = ["--cgroup-parent", CG_PARENT]
# What a dynamically linked C program and the loader need beyond the seed's list (FACTS.md).
LOADER = ["newfstatat", "pread64", "writev", "getdents64"]


def explain_json(*args, **kw):
    return tbtest.command_json("explain", *CG, *args, **kw)


class Explain(tbtest.CgroupParentCase):
    CG_PARENT = CG_PARENT
    TMP_PREFIX = "tb-explain-"
    NEEDS = ((SEED, "the seed's profile fixture"), (PROBE_HOST, "probe not built"))

    def profile(self, name, extra_names=(), extra_rules=(), drop=()):
        """Seed profile + LOADER + extra names/rules, written to a temporary file."""
        with open(SEED) as f:
            p = json.load(f)
        names = [n for n in p["syscalls"][0]["names"] if n not in drop]
        p["syscalls"][0]["names"] = names + LOADER + list(extra_names)
        p["syscalls"].extend(extra_rules)
        path = os.path.join(self.tmp.name, name + ".json")
        with open(path, "w") as f:
            json.dump(p, f)
        return path

    def denial(self, ex, name):
        for d in ex["denials"]:
            if d["syscall"] == name:
                return d
        self.fail("%s not among the denials %s" % (name, [d["syscall"] for d in ex["denials"]]))

    def same_as_run(self, res, *args):
        """The program saw the same thing under plain run: stdout and exit status."""
        plain, pp = tbtest.run_json(*CG, *args)
        self.assertEqual(res["stdout"], plain["stdout"])
        self.assertEqual(res["exit_code"], plain["exit_code"])
        self.assertEqual(res["signal"], plain["signal"])
        return plain, pp

    def test_python_under_seed_names_the_loader_calls(self):
        args = ["--security-opt", "seccomp=" + SEED, "--", tbtest.PYTHON, "-c", "print('hi')"]
        res, p = explain_json(*args)
        ex = res["explain"]
        d = self.denial(ex, "newfstatat")
        self.assertEqual(d["action"], "SCMP_ACT_ERRNO")
        self.assertEqual(d["errno_name"], "EPERM")
        self.assertEqual(d["pid"], 1)
        self.assertTrue(d["exe"].startswith("/usr/bin/python3"), d["exe"])
        self.assertIn("newfstatat", ex["suggestion"][0]["names"])
        _, pp = self.same_as_run(res, *args)
        self.assertEqual(p.returncode, pp.returncode)
        self.assertEqual(p.returncode, 127)  # FACTS.md: Python dies silently under the seed list

        # With newfstatat allowed, the next thing that breaks is named: pread64.
        prof = self.profile("only-newfstatat", drop=())
        with open(prof) as f:
            q = json.load(f)
        q["syscalls"][0]["names"] = [n for n in q["syscalls"][0]["names"]
                                     if n not in ("pread64", "writev", "getdents64")]
        with open(prof, "w") as f:
            json.dump(q, f)
        res, _ = explain_json("--security-opt", "seccomp=" + prof, "--", tbtest.PYTHON, "-c", "pass")
        names = [d["syscall"] for d in res["explain"]["denials"]]
        self.assertIn("pread64", names)
        self.assertNotIn("newfstatat", names)

    def test_probe_ptrace_keyctl_mount_decoded(self):
        prof = self.profile("probe")
        args = ["--security-opt", "seccomp=" + prof, *VOL, "--", PROBE]
        res, p = explain_json(*args)
        ex = res["explain"]
        self.assertIn("ptrace rc=-1 errno=1", res["stdout"])
        self.assertIn("keyctl rc=-1 errno=1", res["stdout"])
        self.assertIn("mount rc=-1 errno=1", res["stdout"])
        self.assertEqual(self.denial(ex, "ptrace")["calls"][0]["call"],
                         "ptrace(PTRACE_TRACEME, 0, NULL, NULL)")
        self.assertTrue(self.denial(ex, "keyctl")["calls"][0]["call"]
                        .startswith("keyctl(KEYCTL_GET_KEYRING_ID, -3,"))
        self.assertEqual(self.denial(ex, "mount")["calls"][0]["call"],
                         'mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, NULL)')
        for n in ("ptrace", "keyctl", "mount"):
            d = self.denial(ex, n)
            self.assertEqual(d["errno"], 1)
            self.assertEqual(d["dangerous"]["severity"], "high")
            self.assertTrue(any(w.startswith(n + " was denied: that is the profile doing its job")
                                for w in ex["warnings"]), ex["warnings"])
            for rule in ex["suggestion"]:
                self.assertNotIn(n, rule["names"], "a dangerous call must not be suggested")
        order = [self.denial(ex, n)["first_seq"] for n in ("ptrace", "keyctl", "mount")]
        self.assertEqual(order, sorted(order))
        _, pp = self.same_as_run(res, *args)
        self.assertEqual(p.returncode, pp.returncode)
        self.assertEqual(p.returncode, 0)

    def test_text_report(self):
        prof = self.profile("probe-text")
        p = tbtest.tightbox("explain", *CG, "--security-opt", "seccomp=" + prof, *VOL, "--", PROBE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"ptrace rc=-1 errno=1", p.stdout)  # the program's own output passes through
        err = p.stderr.decode()
        self.assertIn("ptrace(PTRACE_TRACEME, 0, NULL, NULL)", err)
        self.assertIn("ptrace was denied: that is the profile doing its job; do not allow it", err)

    def test_kill_process_is_reported_and_kept(self):
        prof = self.profile("kill", extra_rules=[{"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"}])
        args = ["--security-opt", "seccomp=" + prof, *VOL, "--", PROBE]
        res, p = explain_json(*args)
        ex = res["explain"]
        self.assertEqual(ex["killed"], {"pid": 1, "syscall": "keyctl"})
        self.assertEqual(self.denial(ex, "keyctl")["action"], "SCMP_ACT_KILL_PROCESS")
        self.assertIn("ptrace rc=-1 errno=1", res["stdout"])
        self.assertNotIn("keyctl rc=", res["stdout"])
        self.assertEqual(res["signal"], 31)  # SIGSYS, as seccomp's KILL_PROCESS reports it
        _, pp = self.same_as_run(res, *args)
        self.assertEqual(p.returncode, pp.returncode)
        self.assertEqual(p.returncode, 128 + 31)

    def test_trap_delivers_the_seccomp_siginfo(self):
        prof = self.profile("trap", extra_rules=[{"names": ["keyctl"], "action": "SCMP_ACT_TRAP"}])
        args = ["--security-opt", "seccomp=" + prof, *VOL, "--", PROBE, "trap"]
        res, p = explain_json(*args)
        self.assertEqual(self.denial(res["explain"], "keyctl")["action"], "SCMP_ACT_TRAP")
        self.assertIn("sigsys_code=1 sigsys_nr=250", res["stdout"])  # SYS_SECCOMP, keyctl
        self.same_as_run(res, *args)

    def test_int80_foreign_arch_is_killed(self):
        prof = self.profile("int80")
        args = ["--security-opt", "seccomp=" + prof, *VOL, "--", PROBE, "int80"]
        res, p = explain_json(*args)
        ex = res["explain"]
        d = self.denial(ex, "getpid")
        self.assertEqual(d["arch"], "i386")  # the label every other command uses
        self.assertEqual(ex["killed"]["syscall"], "getpid")
        self.assertTrue(any("i386 call (int 0x80)" in w for w in ex["warnings"]), ex["warnings"])
        _, pp = self.same_as_run(res, *args)
        self.assertEqual(p.returncode, pp.returncode)

    def test_argument_specific_denial_suggests_an_argument_rule(self):
        # openat allowed only read-only: (flags & O_ACCMODE) == O_RDONLY (value = mask, valueTwo).
        prof = self.profile("openat-ro", drop=("openat",), extra_rules=[
            {"names": ["openat"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 3, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}])
        args = ["--security-opt", "seccomp=" + prof, *VOL, "--", PROBE, "path", "/tmp/x"]
        res, p = explain_json(*args)
        ex = res["explain"]
        self.assertIn("openat rc=-1 errno=1", res["stdout"])
        d = self.denial(ex, "openat")
        self.assertTrue(d["argument_specific"])
        self.assertEqual(d["calls"][0]["call"], 'openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT, 0600)')
        rules = [r for r in ex["suggestion"] if r["names"] == ["openat"]]
        self.assertEqual(len(rules), 1, ex["suggestion"])
        self.assertEqual(rules[0]["args"], [{"index": 2, "value": os.O_WRONLY | os.O_CREAT,
                                             "valueTwo": 0, "op": "SCMP_CMP_EQ"}])
        self.same_as_run(res, *args)

    def test_python_traceback_location(self):
        tbtest.need_file(CORRECTED, "the corrected seed profile")
        code = "import os\n\ndef make():\n    os.mkfifo('/tmp/fifo')\n\nmake()\n"
        args = ["--security-opt", "seccomp=" + CORRECTED, "--", tbtest.PYTHON, "-c", code]
        res, p = explain_json(*args)
        plain, _ = tbtest.run_json(*CG, *args)
        ex = res["explain"]
        self.assertEqual(self.denial(ex, "mknodat")["calls"][0]["call"],
                         'mknodat(AT_FDCWD, "/tmp/fifo", 010666, 0x0)')
        self.assertEqual(ex["python"]["file"], "<string>")
        self.assertEqual(ex["python"]["line"], 4)
        self.assertEqual(ex["python"]["function"], "make")
        # The corrected profile's default is ENOSYS: Python shows what the profile returned.
        self.assertEqual(self.denial(ex, "mknodat")["errno_name"], "ENOSYS")
        self.assertEqual(ex["python"]["error"], "OSError: [Errno 38] Function not implemented")
        self.assertEqual(res["stderr"], plain["stderr"])
        self.assertEqual(p.returncode, 1)

    def test_crashing_init_exits_like_run(self):
        # The sandbox init (pid 1 of its namespace) dies of SIGSEGV. A traced init that gets its
        # fault re-injected drops it and faults forever: explain used to spin until the timeout
        # (124), and never return with --timeout 0. The 30 s guard fails the test on a hang.
        crash = tbtest.probe("rec-crash")
        tbtest.need_file(crash, "probe not built")
        args = ["--timeout", "0", *VOL, "--", "/probes/rec-crash"]
        try:
            res, p = explain_json(*args, timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("explain did not return on a crashing init")
        self.assertEqual(p.returncode, 128 + signal.SIGSEGV)
        self.assertEqual(res["signal"], signal.SIGSEGV)
        self.assertFalse(res["timed_out"])
        self.assertEqual(res["stdout"], "crashing\n")
        _, pp = self.same_as_run(res, *args)
        self.assertEqual(p.returncode, pp.returncode)

    def test_learn_names_every_denial_and_apply_fixes_it(self):
        code = "import os; print('hi', sorted(os.listdir('/probes'))[:1])"
        args = ["--security-opt", "seccomp=" + SEED, *VOL, "--", tbtest.PYTHON, "-c", code]
        plain, _ = explain_json(*args)
        self.assertEqual(plain["exit_code"], 127)  # dies at its first denials
        fixed = os.path.join(self.tmp.name, "fixed.json")
        res, p = explain_json("--learn", "--apply", "-o", fixed, *args)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        self.assertEqual(res["stdout"], "hi ['attack-fileless']\n")  # every denied call ran
        ex = res["explain"]
        self.assertTrue(ex["learn"])
        names = {d["syscall"] for d in ex["denials"]}
        self.assertTrue({"newfstatat", "pread64", "getdents64"} <= names, names)
        with open(fixed) as f:
            q = json.load(f)
        with open(SEED) as f:
            seed = json.load(f)
        self.assertEqual(q["syscalls"][:len(seed["syscalls"])], seed["syscalls"])
        # The applied profile runs it under plain `run`.
        res2, p2 = tbtest.run_json(*CG, "--security-opt", "seccomp=" + fixed, *VOL, "--",
                                   tbtest.PYTHON, "-c", code)
        self.assertEqual(p2.returncode, 0, res2)
        self.assertEqual(res2["stdout"], res["stdout"])

    def test_learn_still_refuses_the_dangerous_set(self):
        prof = self.profile("learn-kill", extra_rules=[{"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"}])
        res, p = explain_json("--learn", "--security-opt", "seccomp=" + prof, *VOL, "--", PROBE)
        self.assertEqual(p.returncode, 0, res)
        for name in ("ptrace", "keyctl", "mount"):
            self.assertIn("%s rc=-1 errno=1" % name, res["stdout"])
            self.denial(res["explain"], name)
        self.assertIsNone(res["explain"]["killed"])
        p = tbtest.tightbox("explain", "--apply", "--", "/bin/true")
        self.assertEqual(p.returncode, 125)
        self.assertIn(b"--apply and -o FILE go together", p.stderr)

    def test_exit_codes_as_run(self):
        res, p = explain_json("--security-opt", "seccomp=" + SEED, "--", "/nonexistent/cmd")
        _, pp = tbtest.run_json(*CG, "--security-opt", "seccomp=" + SEED, "--", "/nonexistent/cmd")
        self.assertEqual(p.returncode, pp.returncode)
        self.assertEqual(p.returncode, 127)
        bad = os.path.join(self.tmp.name, "bad.json")
        with open(bad, "w") as f:
            f.write('{"defaultAction": "SCMP_ACT_ERRNO",\n "syscalls": [ }\n')
        p = tbtest.tightbox("explain", *CG, "--security-opt", "seccomp=" + bad, "--", "/bin/true")
        self.assertEqual(p.returncode, 125)
        self.assertIn(bad.encode(), p.stderr)
        p = tbtest.tightbox("explain", *CG, "--security-opt", "seccomp=" + self.profile("bogus"),
                            *VOL, "--", PROBE, "bogus")
        self.assertEqual(p.returncode, 2)

    def test_run_fields_as_run(self):
        """The run fields of `explain --json` are `run --json`'s object itself. They were written
        out and parsed back, and the parse refused a NUL byte in the output: explain exited 1."""
        argv = ["--", "/bin/sh", "-c", r"printf 'a\000b\377'; echo err >&2; exit 3"]
        res, p = explain_json(*argv)
        run, pp = tbtest.run_json(*CG, *argv)
        self.assertEqual((p.returncode, pp.returncode), (3, 3), p.stderr.decode())
        self.assertEqual(res["stdout"], "a\x00b\\xff")
        timing = ("wall_ms", "cpu_ms", "max_rss_kib")
        self.assertEqual({k: v for k, v in res.items() if k not in timing + ("explain",)},
                         {k: v for k, v in run.items() if k not in timing})


if __name__ == "__main__":
    tbtest.main()
