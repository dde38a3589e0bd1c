"""`tightbox record --backend ptrace`: the probes' known syscalls, arguments, files and outcomes.

Each test records a small C probe (tests/probes/rec-*.c) in the real sandbox and asserts on what
that probe itself does (not on the dynamic loader's noise): i386 calls via int 0x80, a thread's
clone3 flags, a forked child's files, relative paths, execs, crashes, timeouts, and that killing
the recorder leaves no traced process behind.
"""
import json
import os
import signal
import subprocess
import time

import tbtest

VOL = ["-v", tbtest.PROBES + ":/probes:ro"]
CG_PARENT = "tb-record-test-%d" % os.getpid()
CG = ["--cgroup-parent", CG_PARENT]
CLONE_VM, CLONE_THREAD, SIGCHLD = 0x100, 0x10000, 17


class RecordPtrace(tbtest.CgroupParentCase):
    CG_PARENT = CG_PARENT
    TMP_PREFIX = "tb-record-"
    NEEDS = [(tbtest.probe(p), "probe not built")
             for p in ("rec-int80", "rec-thread", "rec-fork", "rec-exec", "rec-crash", "rec-sleep")]

    def record(self, probe, *opts, name=None, expect_rc=0):
        out = os.path.join(self.tmp.name, (name or probe) + ".json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", out, *CG, *VOL, *opts,
                            "--", "/probes/" + probe)
        self.assertEqual(p.returncode, expect_rc, p.stderr.decode(errors="replace"))
        with open(out) as f:
            rec = json.load(f)
        self.assertEqual(rec["format"], "tightbox-recording")
        self.assertEqual(rec["provenance"]["backend"], "ptrace")
        return rec

    def test_path_flood_is_bounded_and_reported(self):
        # 60k stat() on distinct ~4000-byte paths drove the recorder to 706 MB RSS and a 243 MB
        # recording. Now the files it keeps are bounded (TB_REC_MAX_FILES / _PATH_BYTES in
        # core/recording.h) and the rest is counted under "lost" ("files"); the counts stay exact.
        tbtest.need_file(tbtest.probe("rec-stat-flood"), "probe not built")
        out = os.path.join(self.tmp.name, "flood.json")
        p = subprocess.Popen([tbtest.TIGHTBOX, "record", "--backend", "ptrace", "--timeout", "300",
                              "-o", out, *CG, *VOL, "--", "/probes/rec-stat-flood", "60000"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, err.decode(errors="replace"))
        with open(out) as f:
            rec = json.load(f)
        self.assertGreaterEqual(rec["syscalls"]["x86_64"]["newfstatat"]["count"], 60000)  # glibc: stat = newfstatat
        self.assertLessEqual(len(rec["files"]), 65536)
        self.assertLessEqual(sum(len(f) for f in rec["files"]), 8 << 20)
        kept = sum(1 for f in rec["files"] if len(f) > 3900)
        self.assertGreater(kept, 0)
        # Every stat of a path not kept is counted (each path is statted once).
        self.assertEqual(rec["lost"]["files"], 60000 - kept)
        # ru_maxrss (KiB) of tightbox and what it waited for; the sandbox's limit is 256 MiB.
        self.assertLess(ru.ru_maxrss, 128 * 1024, "recorder RSS %d KiB" % ru.ru_maxrss)
        self.assertLess(os.path.getsize(out), 32 << 20)

    def test_int80_is_recorded_as_i386(self):
        rec = self.record("rec-int80")
        self.assertEqual(rec["syscalls"]["i386"]["getpid"]["count"], 1)
        self.assertEqual(rec["syscalls"]["i386"]["write"]["count"], 1)
        self.assertEqual(rec["syscalls"]["i386"]["write"]["workloads"], ["rec-int80"])
        # Only those two: the rest of the probe is 64-bit.
        self.assertEqual(sorted(rec["syscalls"]["i386"]), ["getpid", "write"])
        self.assertNotIn("getpid", rec["syscalls"]["x86_64"])
        self.assertIn("exit_group", rec["syscalls"]["x86_64"])

    def test_thread_clone3_prctl_socket(self):
        rec = self.record("rec-thread")
        x = rec["syscalls"]["x86_64"]
        self.assertEqual(x["clone3"]["count"], 1)
        (c3,) = rec["args"]["x86_64"]["clone3"]
        self.assertTrue(c3["flags"] & CLONE_THREAD and c3["flags"] & CLONE_VM, c3)
        # prctl(PR_GET_NAME) and socket() run in the thread: followed after clone3.
        self.assertIn({"a0": 16, "count": 1}, rec["args"]["x86_64"]["prctl"])
        (sock,) = rec["args"]["x86_64"]["socket"]
        self.assertEqual((sock["a0"], sock["a1"] & 0xf, sock["a2"]), (1, 1, 0))
        self.assertTrue(sock["a1"] & 0o2000000, "SOCK_CLOEXEC kept in a1")
        self.assertEqual(rec["network_families"], ["AF_UNIX"])
        self.assertEqual(rec["provenance"]["exit_code"], 0)
        self.assertIsNone(rec["provenance"]["python"])

    def test_fork_child_files(self):
        rec = self.record("rec-fork")
        x = rec["syscalls"]["x86_64"]
        for name in ("clone", "mkdir", "rmdir", "wait4"):
            self.assertIn(name, x)
        (cl,) = rec["args"]["x86_64"]["clone"]
        self.assertEqual(cl["a0"] & 0xff, SIGCHLD)
        self.assertFalse(cl["a0"] & CLONE_THREAD)
        f = rec["files"]
        self.assertEqual(f["/tmp/rec-fork-dir"], {"ok": ["create", "delete"], "failed": []})
        self.assertEqual(f["/nonexistent/x"], {"ok": [], "failed": ["read"]})
        self.assertEqual(x["exit_group"]["count"], 2)

    def test_relative_paths_dirfds_and_exec(self):
        rec = self.record("rec-exec")
        f = rec["files"]
        self.assertEqual(f["/tmp/rel-file"], {"ok": ["create", "delete", "write"], "failed": []})
        self.assertEqual(f["/usr/lib"]["ok"], ["read"])
        self.assertEqual(f["/nonexistent/prog"], {"ok": [], "failed": ["exec"]})
        self.assertEqual(f["/bin/true"]["ok"], ["exec"])
        # Executables are what actually ran (resolved), the probe and true.
        self.assertIn("/probes/rec-exec", rec["executables"])
        self.assertIn("/usr/bin/true", rec["executables"])
        self.assertNotIn("/nonexistent/prog", rec["executables"])
        self.assertEqual(rec["syscalls"]["x86_64"]["execve"]["count"], 3)
        # The runner's own calls between its hook and the exec are not recorded.
        self.assertNotIn("seccomp", rec["syscalls"]["x86_64"])

    def test_crash_still_recorded(self):
        rec = self.record("rec-crash", expect_rc=128 + signal.SIGSEGV)
        self.assertEqual(rec["provenance"]["signal"], signal.SIGSEGV)
        self.assertIsNone(rec["provenance"]["exit_code"])
        self.assertFalse(rec["provenance"]["timed_out"])
        self.assertIn("write", rec["syscalls"]["x86_64"])
        self.assertNotIn("exit_group", rec["syscalls"]["x86_64"])

    def test_timeout_still_recorded(self):
        rec = self.record("rec-sleep", "--timeout", "1", expect_rc=124)
        self.assertTrue(rec["provenance"]["timed_out"])
        self.assertIn("pause", rec["syscalls"]["x86_64"])
        self.assertIn("clone", rec["syscalls"]["x86_64"])

    def test_deterministic(self):
        a = self.record("rec-fork", name="det-a")
        b = self.record("rec-fork", name="det-b")
        for key in ("syscalls", "args", "files", "executables", "network_families"):
            self.assertEqual(a[key], b[key], key)

    def test_enforce_filters_denied_calls(self):
        # A profile that denies mkdir: with --enforce the call never reaches the tracer (seccomp's
        # ERRNO wins over RET_TRACE) and the probe sees EPERM; without it, mkdir is recorded.
        prof = os.path.join(self.tmp.name, "no-mkdir.json")
        with open(prof, "w") as f:
            json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                       "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, f)
        opt = ["--security-opt", "seccomp=" + prof]
        rec = self.record("rec-fork", *opt, "--enforce", name="enforced", expect_rc=3)
        self.assertNotIn("mkdir", rec["syscalls"]["x86_64"])
        self.assertNotIn("/tmp/rec-fork-dir", rec["files"])
        rec = self.record("rec-fork", *opt, name="not-enforced")
        self.assertEqual(rec["syscalls"]["x86_64"]["mkdir"]["count"], 1)

    def test_python_version_and_workload_name(self):
        out = os.path.join(self.tmp.name, "py.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", out, "--name", "py-threads",
                            *CG, "--", tbtest.PYTHON, "-c",
                            "import threading; t = threading.Thread(target=print, args=('hi',));"
                            "t.start(); t.join()")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            rec = json.load(f)
        want = subprocess.run([tbtest.PYTHON, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(rec["provenance"]["python"], want)
        self.assertEqual(rec["provenance"]["workload"], "py-threads")
        self.assertEqual(rec["syscalls"]["x86_64"]["clone3"]["workloads"], ["py-threads"])
        # CPython stats the source and reads the cached bytecode.
        self.assertIn("stat", rec["files"]["/usr/lib/python3.11/threading.py"]["ok"])
        self.assertIn("read", rec["files"]["/usr/lib/python3.11/__pycache__/threading.cpython-311.pyc"]["ok"])

    def test_sigkill_leaves_no_tracee(self):
        out = os.path.join(self.tmp.name, "killed.json")
        proc = subprocess.Popen([tbtest.TIGHTBOX, "record", "--backend", "ptrace", "-o", out,
                                 "--timeout", "0", *CG, *VOL, "--", "/probes/rec-sleep"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = proc.stdout.readline()
        self.assertTrue(line.startswith(b"sleeping"), line)
        tracees = traced_by(proc.pid)
        self.assertGreaterEqual(len(tracees), 2, "the probe and its child are traced")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        # PTRACE_O_EXITKILL: the kernel kills every tracee when the tracer dies. Wait for
        # the kernel to finish that (bounded), then assert.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(t) for t in tracees):
            time.sleep(0.05)
        self.assertEqual([t for t in tracees if alive(t)], [], "traced processes left behind")
        self.assertFalse(os.path.exists(out), "no recording from a killed recorder")
        self.assertEqual([e for e in os.listdir(self.tmp.name) if ".tmp." in e], [])
        # The killed run could not remove its cgroup: remove ours (empty now).
        for cg in tbtest.leftover_cgroups(CG_PARENT):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    os.rmdir(cg)
                    break
                except OSError:
                    time.sleep(0.05)


def traced_by(tracer):
    found = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/status" % e) as f:
                for line in f:
                    if line.startswith("TracerPid:") and int(line.split()[1]) == tracer:
                        found.append(int(e))
        except OSError:
            pass
    return found


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return not line.split()[1].startswith(("Z", "X"))
    except OSError:
        return False
    return False


if __name__ == "__main__":
    tbtest.main()
