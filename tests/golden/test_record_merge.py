"""`tightbox record --merge`: union of recordings, deterministic, and clear errors on bad input."""
import json
import os
import tempfile
import unittest

import tbtest


def recording(workload, syscalls, files=None, families=(), exit_code=0):
    return {
        "format": "tightbox-recording", "version": 1,
        "provenance": {"tightbox_version": "0.1.0", "backend": "ptrace", "kernel": "6.18", "arch": "x86_64",
                       "libc": "glibc 2.36", "python": None, "command": ["/bin/x"], "workload": workload,
                       "exit_code": exit_code, "signal": None, "timed_out": False, "duration_ms": 5},
        "syscalls": {"x86_64": {n: {"count": c, "workloads": [workload]} for n, c in syscalls.items()}},
        "args": {"x86_64": {"ioctl": [{"a1": 21505, "count": 1}]}},
        "files": files or {},
        "executables": ["/bin/x"],
        "network_families": list(families),
    }


class Merge(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tb-merge-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, obj):
        p = os.path.join(self.tmp.name, name)
        with open(p, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return p

    def test_union(self):
        a = self.write("a.json", recording("b-wl", {"read": 2, "write": 1},
                                           {"/etc/x": {"ok": ["read"], "failed": []}}, ["AF_UNIX"]))
        b = self.write("b.json", recording("a-wl", {"read": 3, "clone3": 1},
                                           {"/etc/x": {"ok": ["stat"], "failed": ["write"]}}, ["AF_INET"], 3))
        out = os.path.join(self.tmp.name, "all.json")
        p = tbtest.tightbox("record", "--merge", a, b, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            m = json.load(f)
        x = m["syscalls"]["x86_64"]
        self.assertEqual(x["read"], {"count": 5, "workloads": ["a-wl", "b-wl"]})
        self.assertEqual(x["clone3"], {"count": 1, "workloads": ["a-wl"]})
        self.assertEqual(m["files"]["/etc/x"], {"ok": ["read", "stat"], "failed": ["write"]})
        self.assertEqual(m["network_families"], ["AF_INET", "AF_UNIX"])
        self.assertEqual(m["args"]["x86_64"]["ioctl"], [{"a1": 21505, "count": 2}])
        self.assertEqual([s["workload"] for s in m["sources"]], ["a-wl", "b-wl"])
        self.assertEqual(m["provenance"]["backend"], "merged")
        self.assertEqual(m["provenance"]["exit_code"], 3)
        # Same inputs in the other order: byte-identical output.
        out2 = os.path.join(self.tmp.name, "all2.json")
        self.assertEqual(tbtest.tightbox("record", "--merge", b, a, "-o", out2).returncode, 0)
        with open(out, "rb") as f1, open(out2, "rb") as f2:
            self.assertEqual(f1.read(), f2.read())

    def check_bad(self, text, want):
        good = self.write("good.json", recording("w", {"read": 1}))
        bad = self.write("bad.json", text)
        out = os.path.join(self.tmp.name, "never.json")
        p = tbtest.tightbox("record", "--merge", good, bad, "-o", out)
        self.assertEqual(p.returncode, 2, p.stderr)
        err = p.stderr.decode()
        self.assertIn(bad, err)
        self.assertIn(want, err)
        self.assertFalse(os.path.exists(out), "no output on bad input")
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["bad.json", "good.json"])

    def test_truncated(self):
        self.check_bad('{"format": "tightbox-recording",\n "version": 1,\n', "bad.json:3:")

    def test_empty(self):
        self.check_bad("", "empty file")

    def test_foreign_json(self):
        self.check_bad('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}', "not a tightbox recording")

    def test_wrong_version(self):
        r = recording("w", {"read": 1})
        r["version"] = 7
        self.check_bad(json.dumps(r), "unsupported recording version 7")

    def test_bad_op_names_json_path(self):
        r = recording("w", {"read": 1}, {"/x": {"ok": ["chmod"], "failed": []}})
        self.check_bad(json.dumps(r), "files./x.ok[0]")


if __name__ == "__main__":
    tbtest.main()
