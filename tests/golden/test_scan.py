"""Golden: `tightbox scan` of a probe with known imports (tests/probes/scan-libc-probe.c).

The expected file lists, for the probe object only, each reachable syscall and the imported
symbols that reach it (versions included), as the scan JSON reports them; libc's own path and the
site addresses are left out so the file holds on any Debian 12 build. TB_UPDATE_GOLDEN=1 rewrites
it. Also: the JSON is byte-identical from run to run, and bad input exits 2 naming the file.
"""
import json
import os
import tempfile
import unittest

import tbtest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "scan", "probe.txt")
UPDATE = os.environ.get("TB_UPDATE_GOLDEN") == "1"


class ScanGolden(unittest.TestCase):
    def setUp(self):
        self.probe = tbtest.probe("scan-libc-probe")
        tbtest.need_file(self.probe, "the probe is built with the tests")

    def scan(self, *args):
        p = tbtest.tightbox("scan", "-q", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_probe_imports(self):
        doc = json.loads(self.scan(self.probe))
        self.assertEqual(doc["format"], "tightbox-scan")
        self.assertEqual(doc["version"], 1)
        real = os.path.realpath(self.probe)
        lines = []
        for sc in doc["syscalls"]:
            for f in sc["from"]:
                if f["object"] == real:
                    lines.append("%s <- %s\n" % (sc["name"], " ".join(f["symbols"])))
        text = "".join(lines)
        if UPDATE:
            with open(EXPECTED, "w") as f:
                f.write(text)
        with open(EXPECTED) as f:
            self.assertEqual(text, f.read(), "differs from %s (TB_UPDATE_GOLDEN=1 rewrites it)" % EXPECTED)
        # The closure reached libc through ld.so.cache, and the probe's deps say so.
        libc = [o["path"] for o in doc["objects"] if o["soname"] == "libc.so.6" and o["glibc"]]
        self.assertEqual(len(libc), 1)
        probe = [o for o in doc["objects"] if o["path"] == real][0]
        self.assertIn(libc[0], probe["deps"])
        # Each object's reference says how it reaches the name (the probe: imports only).
        for sc in doc["syscalls"]:
            for f in sc["from"]:
                if f["object"] == real:
                    self.assertEqual(f["via"], ["import"], sc["name"])
        self.assertEqual(doc["missing"], [])

    def test_deterministic(self):
        self.assertEqual(self.scan(self.probe), self.scan(self.probe))

    def test_bad_input(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("not an elf\n")
            f.flush()
            p = tbtest.tightbox("scan", f.name)
            self.assertEqual(p.returncode, 2)
            self.assertIn(f.name.encode(), p.stderr)
            self.assertIn(b"not an ELF file", p.stderr)
            self.assertEqual(p.stdout, b"")
        p = tbtest.tightbox("scan", "--python", "/nonexistent/python3.11")
        self.assertEqual(p.returncode, 2)
        p = tbtest.tightbox("scan")
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    tbtest.main()
