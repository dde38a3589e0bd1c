"""The benches run on a fresh machine: the guest boots with no tracefs mounted, a pure cgroup2
hierarchy and Debian's default RLIMIT_MEMLOCK, which made bpftrace fail with "tracepoint not
found" and "couldn't set RLIMIT_MEMLOCK" before bench/record-bench prepared them. Each bench runs
once in its quick form; every column must either give a figure or say why it was skipped. No
figure is judged (timing in a TCG guest means nothing)."""
import os
import re
import subprocess
import unittest

import tbtest
import vmlib

BENCH = os.path.join(tbtest.SOURCE_DIR, "bench")


def setUpModule():
    vmlib.need_guest()


def bench(*argv):
    env = dict(os.environ, TIGHTBOX=tbtest.TIGHTBOX)
    return subprocess.run([os.path.join(BENCH, argv[0]), *argv[1:]], capture_output=True, text=True,
                          timeout=400, env=env)


class RecordBench(unittest.TestCase):
    def test_every_column_runs_or_says_why(self):
        tracefs_before = os.path.isdir("/sys/kernel/tracing/events")
        p = bench("record-bench", "--quick", "--runs", "1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        start = next(i for i, l in enumerate(lines) if l.startswith("workload"))
        cols = lines[start].split()[1:]
        skipped = dict(re.findall(r"^(\S+): skipped: (.+)$", p.stdout, re.M))
        rows = lines[start + 1:lines.index("", start)]
        self.assertEqual([r[:18].strip() for r in rows], ["import json", "200 os.stat", "20 file writes"],
                         p.stdout)
        for row in rows:
            cells = re.findall(r"(\d+)\s+(\d+\.\d+)x|\s-(?=\s|$)", row[18:])
            self.assertEqual(len(cells), len(cols), row)
            for col, cell in zip(cols, cells):
                if cell == ("", ""):
                    self.assertIn(col, skipped, "column %s has no figure and no reason:\n%s" % (col, p.stdout))
        for col in ("bare", "run", "bpf"):
            self.assertNotIn(col, skipped, p.stdout)
        if "bpftrace" in skipped:
            self.assertNotIn("tracepoint", skipped["bpftrace"])
            self.assertNotIn("RLIMIT_MEMLOCK", skipped["bpftrace"])
        # What the bench mounted it unmounts again.
        self.assertEqual(os.path.isdir("/sys/kernel/tracing/events"), tracefs_before)


class RunBench(unittest.TestCase):
    def test_runs_with_its_peers_skipped_or_measured(self):
        p = bench("run-bench", "--runs", "20", "--only", "tightbox", "--no-memory")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"\n  tightbox\s+\d+\.\d+")
        self.assertNotIn("FAILED", p.stdout)


if __name__ == "__main__":
    tbtest.main()
