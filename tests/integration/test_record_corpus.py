"""scripts/record-corpus with workloads of one's own: the success rule is a flag, volumes pass through.

A workload that reads its input from a -v volume and prints no "OK" line succeeds under the
default rule for a folder of one's own (--success exit), fails with the reason under
--success ok-line, and fails without the volume; the merged corpus is written either way.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

SCRIPT = os.path.join(tbtest.SOURCE_DIR, "scripts", "record-corpus")
WORKLOAD = """\
with open("/data/input.txt") as f:
    print(f.read().strip().upper())
"""


class RecordCorpus(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tb-corpus-test-")
        self.wl = os.path.join(self.tmp, "workloads")
        self.data = os.path.join(self.tmp, "data")
        os.mkdir(self.wl)
        os.mkdir(self.data)
        with open(os.path.join(self.wl, "reader.py"), "w") as f:
            f.write(WORKLOAD)
        with open(os.path.join(self.data, "input.txt"), "w") as f:
            f.write("hello\n")
        os.chmod(self.tmp, 0o755)
        for d in (self.wl, self.data):
            os.chmod(d, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def corpus(self, *args):
        out = os.path.join(self.tmp, "corpus.json")
        if os.path.exists(out):
            os.unlink(out)
        p = subprocess.run([SCRIPT, "--backend", "ptrace", "--tightbox", tbtest.TIGHTBOX,
                            "--workloads", self.wl, "-o", out, *args],
                           capture_output=True, text=True, timeout=300)
        return p, out

    def test_volume_and_default_exit_rule(self):
        p, out = self.corpus("-v", self.data + ":/data:ro")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("FAILED", p.stdout)
        with open(out) as f:
            rec = json.load(f)
        self.assertEqual([s["workload"] for s in rec["sources"]], ["reader"])

    def test_ok_line_rule_is_a_flag(self):
        p, out = self.corpus("-v", self.data + ":/data:ro", "--success", "ok-line")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("no stdout line starting with OK (--success ok-line)", p.stdout)
        self.assertTrue(os.path.exists(out))

    def test_without_the_volume_the_workload_fails(self):
        p, out = self.corpus()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("FAILED: exit 1", p.stdout)


if __name__ == "__main__":
    tbtest.main()
