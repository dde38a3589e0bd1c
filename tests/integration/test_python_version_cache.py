"""provenance.python comes from tightbox's private cache (tracer/python-version.c) once an
interpreter file was asked: keyed by that file's path and identity, so a changed interpreter is
asked again, and an entry others could write, or one for another key, is ignored.

The test works on its own copy of the interpreter under /opt (the cache is used only for
interpreters under /usr and /opt) so that a planted version never reaches another test's
recording of /usr/bin/python3."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

CACHE = "/run/tightbox/python-version"


def setUpModule():
    tbtest.need_root()


class PythonVersionCache(unittest.TestCase):
    def setUp(self):
        self.opt = tempfile.mkdtemp(prefix="tb-pyver-", dir="/opt")
        os.chmod(self.opt, 0o755)
        os.makedirs(os.path.join(self.opt, "bin"))
        self.py = os.path.join(self.opt, "bin", "python3")
        shutil.copy2(os.path.realpath(tbtest.PYTHON), self.py)
        self.real = subprocess.run([self.py, "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                                   capture_output=True, text=True, check=True).stdout.strip()
        self.out = tempfile.mkdtemp(prefix="tb-pyver-out-")

    def tearDown(self):
        for e in self.entries():
            os.unlink(e)
        shutil.rmtree(self.opt)
        shutil.rmtree(self.out)

    def entries(self):
        """The cache entries for this test's interpreter copy."""
        found = []
        for e in glob.glob(os.path.join(CACHE, "*")):
            try:
                with open(e, "rb") as f:
                    if (" path=%s " % self.py).encode() in f.read():
                        found.append(e)
            except OSError:
                pass
        return found

    def recorded_version(self):
        out = os.path.join(self.out, "r.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", out, "--", self.py, "-c", "pass")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(out) as f:
            return json.load(f)["provenance"]["python"]

    def plant(self, entry, version, mode=0o600):
        """Rewrites ENTRY's version line, keeping its key (the first two lines)."""
        with open(entry) as f:
            lines = f.read().split("\n")
        tmp = entry + ".tbtest"
        with open(tmp, "w") as f:
            f.write("\n".join(lines[:2] + [version, ""]))
        os.chmod(tmp, mode)
        os.rename(tmp, entry)

    def test_cached_per_interpreter_file(self):
        self.assertEqual(self.recorded_version(), self.real)
        entries = self.entries()
        self.assertEqual(len(entries), 1, "one private entry for the interpreter")
        st = os.stat(entries[0])
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(st.st_uid, os.geteuid())
        # The next recording reads the entry instead of asking the interpreter.
        self.plant(entries[0], "9.9.9")
        self.assertEqual(self.recorded_version(), "9.9.9")
        # Another interpreter file (a new mtime) is a new key: asked again.
        os.utime(self.py, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        self.assertEqual(self.recorded_version(), self.real)

    def test_entry_others_could_write_is_ignored(self):
        self.assertEqual(self.recorded_version(), self.real)
        entry = self.entries()[0]
        self.plant(entry, "9.9.9", mode=0o666)
        self.assertEqual(self.recorded_version(), self.real)

    def test_entry_with_another_key_is_ignored(self):
        self.assertEqual(self.recorded_version(), self.real)
        entry = self.entries()[0]
        with open(entry) as f:
            key = f.read().split("\n")[1]
        with open(entry + ".tbtest", "w") as f:
            f.write("tightbox-python-version 1\n%s\n9.9.9\n" % key.replace("size=", "size=1"))
        os.chmod(entry + ".tbtest", 0o600)
        os.rename(entry + ".tbtest", entry)
        self.assertEqual(self.recorded_version(), self.real)

    def test_volume_over_the_interpreter_is_asked_each_time(self):
        self.assertEqual(self.recorded_version(), self.real)
        self.plant(self.entries()[0], "9.9.9")
        # A --volume over the interpreter's folder: the sandbox may run another file there.
        out = os.path.join(self.out, "r.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", out,
                            "-v", "%s:%s:ro" % (os.path.join(self.opt, "bin"), os.path.join(self.opt, "bin")),
                            "--", self.py, "-c", "pass")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(out) as f:
            self.assertEqual(json.load(f)["provenance"]["python"], self.real)


if __name__ == "__main__":
    tbtest.main()
