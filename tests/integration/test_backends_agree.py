"""Both recorder backends record the same thing on every workload in scripts/workloads/.

Each workload is recorded with --backend bpf and --backend ptrace in the same sandbox; the
per-architecture syscall name sets must be equal up to the allow-list below, whose every entry
docs/bpf-backend.md explains; so must the files with their operations and outcomes (what the
AppArmor and Landlock grants are generated from: up to the random names of temporary files)
and the argument classes (the distinct argument tuples per syscall: their counts depend on
timing). Before both recorders read core/syscall-specs.c, the bpf side lacked link, symlink,
mknod and getdents, and this failed on stdlib_files, os_misc and every directory listing."""
import glob
import json
import os
import re
import tempfile
import unittest

import tbtest

WORKLOADS = sorted(glob.glob(os.path.join(tbtest.SOURCE_DIR, "scripts", "workloads", "*.py")))

# Syscalls whose presence depends on timing, not on the backend (docs/bpf-backend.md,
# "Differences from ptrace"): a lock that happens to be contended, a sleep interrupted by a signal,
# memory returned to the kernel by malloc's trimming heuristics, a pool that kills the workers still
# alive at terminate() (multiproc: kill), a wait that polls with short sleeps while the child runs
# (subprocess: clock_nanosleep; ptrace slows the child, so it sleeps more often). Either backend
# may see them or not, and the same backend differs from run to run.
TIMING_DEPENDENT = {"futex", "restart_syscall", "sched_yield", "madvise", "munmap", "mremap", "brk",
                    "kill", "clock_nanosleep", "nanosleep"}


# A temporary name's random part (tempfile's 8 characters, a POSIX semaphore's 6) directly under
# /tmp or /dev/shm: the two runs cannot share it.
RANDOM_NAME = re.compile(r"^(/tmp|/dev/shm)/([^/]*?)[A-Za-z0-9_]{6,8}(\.[A-Za-z0-9]+)?(?=/|$)")


def file_ops(rec):
    """{(path with random names folded, outcome, op)}"""
    out = set()
    for path, v in rec["files"].items():
        folded = RANDOM_NAME.sub(r"\1/\2<random>\3", path)
        for outcome in ("ok", "failed"):
            out |= {(folded, outcome, op) for op in v[outcome]}
    return out


def arg_classes(rec):
    """{(arch, syscall, tuple of (key, value) without the count)}"""
    return {(arch, name, tuple(sorted((k, v) for k, v in t.items() if k != "count")))
            for arch, per in rec.get("args", {}).items() for name, ts in per.items() for t in ts
            if name not in TIMING_DEPENDENT}


class BackendsAgree(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()
        tbtest.need_file("/sys/kernel/btf/vmlinux", "the bpf backend needs kernel BTF")
        if not WORKLOADS:
            self.skipTest("no workloads in scripts/workloads/")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def record(self, script, backend, *extra):
        out = os.path.join(self.tmp.name, "%s-%s.json" % (os.path.basename(script), backend))
        p = tbtest.tightbox("record", "--backend", backend, "--timeout", "120", "--memory", "1g",
                            *extra, "-o", out, "--script", script, timeout=300)
        if backend == "bpf" and p.returncode == 125 and b"not available" in p.stderr:
            self.skipTest(p.stderr.decode().strip())
        self.assertTrue(os.path.exists(out), p.stderr.decode())
        with open(out) as f:
            return json.load(f), p

    def test_same_syscall_sets(self):
        for script in WORKLOADS:
            with self.subTest(workload=os.path.basename(script)):
                b, pb = self.record(script, "bpf")
                p, pp = self.record(script, "ptrace")
                self.assertEqual(pb.returncode, pp.returncode, (pb.stderr, pp.stderr))
                for arch in set(b["syscalls"]) | set(p["syscalls"]):
                    sb = set(b["syscalls"].get(arch, {})) - TIMING_DEPENDENT
                    sp = set(p["syscalls"].get(arch, {})) - TIMING_DEPENDENT
                    self.assertEqual(sb, sp, "%s: bpf only %s, ptrace only %s" %
                                     (arch, sorted(sb - sp), sorted(sp - sb)))
                self.assertEqual(b["executables"], p["executables"])
                self.assertEqual(b["network_families"], p["network_families"])
                fb, fp = file_ops(b), file_ops(p)
                self.assertEqual(fb, fp, "files: bpf only %s, ptrace only %s" %
                                 (sorted(fb - fp)[:20], sorted(fp - fb)[:20]))
                ab, ap = arg_classes(b), arg_classes(p)
                self.assertEqual(ab, ap, "args: bpf only %s, ptrace only %s" %
                                 (sorted(ab - ap)[:20], sorted(ap - ab)[:20]))
                self.assertNotIn("lost", b, "the bpf recording reports losses on a small workload")

    def test_same_denials(self):
        """Calls the ceiling refused before they ran (mount, unshare, clone with a namespace flag)
        are "denied" alike, with or without --enforce; what an enforced profile refused (mkdir,
        getcwd) is neither denied nor recorded, by either backend. The bpf side sees an exit without
        an enter; it marks the enters of the calls the ceiling may refuse, and of every call under
        --enforce. Before, bpf counted the profile's refusals as denied too."""
        script = os.path.join(self.tmp.name, "denials.py")
        with open(script, "w") as f:
            f.write(DENIALS)
        prof = os.path.join(self.tmp.name, "deny-mkdir.json")
        with open(prof, "w") as f:
            json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                       "syscalls": [{"names": ["mkdir", "mkdirat", "getcwd"], "action": "SCMP_ACT_ERRNO",
                                     "errnoRet": 1}]}, f)
        for extra in ((), ("--enforce", "--security-opt", "seccomp=" + prof)):
            with self.subTest(enforce=bool(extra)):
                b, pb = self.record(script, "bpf", *extra)
                p, pp = self.record(script, "ptrace", *extra)
                self.assertEqual(pb.returncode, 0, pb.stderr)
                self.assertEqual(b.get("denied"), p.get("denied"))
                self.assertEqual(b["denied"]["x86_64"], {"mount": 2, "unshare": 2, "clone": 2})
                for name in ("mkdir", "getcwd"):
                    self.assertEqual(name in b["syscalls"]["x86_64"], not extra, name)
                self.assertEqual(file_ops(b), file_ops(p))

    def test_workload_filter_refusals_left_out(self):
        """A filter the workload loads itself refuses mkdir: neither backend records the refused
        calls (ptrace never stops at them; bpf sees exits without enters once the task has more
        filters than the ceiling) nor counts them as denied. Before, bpf recorded them as denied."""
        script = os.path.join(self.tmp.name, "own_filter.py")
        with open(script, "w") as f:
            f.write(OWN_FILTER)
        b, pb = self.record(script, "bpf")
        p, pp = self.record(script, "ptrace")
        self.assertEqual((pb.returncode, pb.stdout), (0, b"1 1\n"), pb.stderr)
        self.assertEqual((pp.returncode, pp.stdout), (0, b"1 1\n"), pp.stderr)
        for rec in (b, p):
            self.assertNotIn("mkdir", rec["syscalls"]["x86_64"])
            self.assertNotIn("denied", rec)
        self.assertEqual(file_ops(b), file_ops(p))


# A seccomp filter of the workload's own (x86_64 only): mkdir fails with EPERM, all else runs.
OWN_FILTER = """import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
code = [(0x20, 0, 0, 0), (0x15, 0, 1, 83), (0x06, 0, 0, 0x00050001), (0x06, 0, 0, 0x7fff0000)]
buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *c) for c in code))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
prog = Prog(len(code), ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0, ctypes.get_errno()  # PR_SET_SECCOMP
errs = []
for _ in range(2):
    try:
        os.mkdir("/tmp/own-filter-dir")
    except OSError as e:
        errs.append(e.errno)
os.stat("/tmp")
print(*errs)
"""


# Three calls the ceiling refuses and two an enforced profile may, twice each.
DENIALS = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for _ in range(2):
    libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
    libc.unshare(0x10000000)  # CLONE_NEWUSER
    libc.syscall(56, 0x00020000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWNS | SIGCHLD)
    for call in (lambda: os.mkdir("/tmp/d"), os.getcwd):
        try:
            call()
        except OSError:
            pass
"""


if __name__ == "__main__":
    tbtest.main()
