"""Both recorder backends see the same syscall set on every workload in scripts/workloads/.

Each workload is recorded with --backend bpf and --backend ptrace in the same sandbox; the
per-architecture syscall name sets must be equal up to the allow-list below, whose every entry
docs/bpf-backend.md explains."""
import glob
import json
import os
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


class BackendsAgree(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()
        tbtest.need_file("/sys/kernel/btf/vmlinux", "the bpf backend needs kernel BTF")
        if not WORKLOADS:
            self.skipTest("no workloads in scripts/workloads/")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def record(self, script, backend):
        out = os.path.join(self.tmp.name, "%s-%s.json" % (os.path.basename(script), backend))
        p = tbtest.tightbox("record", "--backend", backend, "--timeout", "120", "--memory", "1g",
                            "-o", out, "--script", script, timeout=300)
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


if __name__ == "__main__":
    tbtest.main()
