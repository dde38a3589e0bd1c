"""`tightbox audit --against`: a real recording predicts exactly which calls a profile would refuse,
argument values included."""
import json
import os
import shutil
import tempfile
import unittest

import tbtest
from tbtest import PYTHON, tightbox

PROFILE = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NE"}]},
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}


def setUpModule():
    tbtest.need_root()


class AuditAgainst(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tb-against-")
        cls.rec = os.path.join(cls.dir, "rec.json")
        p = tightbox("record", "--backend", "ptrace", "-o", cls.rec, "--", PYTHON, "-c",
                     "import os, socket; os.mkdir('/tmp/d'); socket.socket(socket.AF_INET6);"
                     " socket.socket(socket.AF_UNIX)")
        assert p.returncode == 0, p.stderr
        cls.prof = os.path.join(cls.dir, "p.json")
        with open(cls.prof, "w") as f:
            json.dump(PROFILE, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_predicts_denials(self):
        p = tightbox("audit", self.prof, "--against", self.rec, "--json")
        self.assertEqual(p.returncode, 1)
        fails = [f for f in json.loads(p.stdout)["findings"] if f.get("rule") == "workload-will-fail"]
        text = "\n".join(f["message"] for f in fails)
        self.assertIn("mkdir (used 1 time) gets EACCES", text)
        self.assertIn("socket(a0=0xa", text)  # AF_INET6 refused by the argument rule
        self.assertNotIn("a0=0x1,", text)      # AF_UNIX is allowed by it
        self.assertEqual(len(fails), 2, text)

    def test_text_names_the_recording(self):
        p = tightbox("audit", self.prof, "--against", self.rec)
        self.assertIn(b"this workload will fail: mkdir", p.stdout)
        self.assertIn(self.rec.encode(), p.stdout)

    def test_bad_recording_is_exit_2(self):
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w") as f:
            f.write('{"format": "tightbox-recording", "version": 1, ')
        p = tightbox("audit", self.prof, "--against", bad)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"bad.json:1", p.stderr)


if __name__ == "__main__":
    tbtest.main()
