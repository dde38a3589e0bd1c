"""The compiled-filter cache must never weaken a filter: it is keyed by the full profile bytes and
options, checked byte for byte, and ignored when tampered with or accessible to others."""
import glob
import json
import os
import shutil
import tempfile
import time
import unittest

import tbtest
from tbtest import PYTHON, run_json

CACHE = "/run/tightbox/bpf-cache"
MKDIR = "import os\ntry:\n    os.mkdir('/tmp/d'); print('made')\nexcept OSError as e:\n    print(e.errno)"


def profile(errno_ret):
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno_ret}]}


def setUpModule():
    tbtest.need_root()


class FilterCache(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tb-cache-")
        self.path = os.path.join(self.dir, "p.json")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_with(self, prof):
        with open(self.path, "w") as f:
            json.dump(prof, f)
        res, _ = run_json("--security-opt", "seccomp=" + self.path, "--", PYTHON, "-c", MKDIR)
        return res["stdout"].strip()

    def entry_for(self, prof):
        """The cache file holding PROF: its key contains the profile bytes. Builds with another
        cache format version (the key starts with it) may have left their own entry for the
        same bytes in this shared folder: the one this build just wrote is the newest."""
        want = json.dumps(prof).encode()
        found = [e for e in glob.glob(CACHE + "/*") if want in open(e, "rb").read()]
        self.assertTrue(found, "no cache entry for the profile")
        return max(found, key=os.path.getmtime)

    def test_same_path_new_content_recompiles(self):
        self.assertEqual(self.run_with(profile(13)), "13")
        self.assertEqual(self.run_with(profile(13)), "13")  # from the cache
        self.assertEqual(self.run_with(profile(1)), "1")    # edited in place: not the old entry

    def test_swapped_entry_is_rejected(self):
        allow = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}
        self.assertEqual(self.run_with(allow), "made")
        self.assertEqual(self.run_with(profile(13)), "13")
        # Poison: the strict profile's entry replaced by the permissive program.
        shutil.copyfile(self.entry_for(allow), self.entry_for(profile(13)))
        self.assertEqual(self.run_with(profile(13)), "13")

    def test_garbage_and_foreign_mode_are_ignored(self):
        self.assertEqual(self.run_with(profile(13)), "13")
        entry = self.entry_for(profile(13))
        with open(entry, "wb") as f:
            f.write(b"\x00" * 64)
        self.assertEqual(self.run_with(profile(13)), "13")
        os.chmod(entry, 0o666)
        self.assertEqual(self.run_with(profile(13)), "13")


def stat_entries(path):
    """The cache files keyed by PATH's identity (dev, inode) instead of its bytes."""
    st = os.stat(path)
    want = f"dev={st.st_dev} ino={st.st_ino} ".encode()
    return [e for e in glob.glob(CACHE + "/*") if b" by=stat" in open(e, "rb").read(4096)
            and want in open(e, "rb").read(4096)]


class StatKey(unittest.TestCase):
    """A profile left alone for seconds is found by its identity and change times, without reading
    it; any change to it moves its ctime, so the entry is never the old program's."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tb-cache-stat-")
        for name in ("used", "edited"):
            with open(os.path.join(cls.dir, name + ".json"), "w") as f:
                json.dump(profile(13), f)
        time.sleep(2.5)  # settled: only then is a stat entry written (racy-clean rule)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def mkdir_result(self):
        res, _ = run_json("--security-opt", "seccomp=" + self.path, "--", PYTHON, "-c", MKDIR)
        return res["stdout"].strip()

    def test_stat_entry_used_and_checked(self):
        self.path = os.path.join(self.dir, "used.json")
        self.assertEqual(self.mkdir_result(), "13")
        entries = stat_entries(self.path)
        self.assertEqual(len(entries), 1, "no entry keyed by the settled profile's identity")
        self.assertEqual(self.mkdir_result(), "13")  # from the stat entry
        # Poison: a permissive program's entry copied over the stat entry is refused (its
        # stored key is another's), and the profile's own bytes decide.
        allow = os.path.join(self.dir, "allow.json")
        with open(allow, "w") as f:
            json.dump({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}, f)
        res, _ = run_json("--security-opt", "seccomp=" + allow, "--", PYTHON, "-c", MKDIR)
        self.assertEqual(res["stdout"].strip(), "made")
        content = [e for e in glob.glob(CACHE + "/*") if open(allow, "rb").read() in open(e, "rb").read()]
        self.assertTrue(content)
        shutil.copyfile(max(content, key=os.path.getmtime), entries[0])
        self.assertEqual(self.mkdir_result(), "13")

    def test_edit_in_place_same_size_and_mtime(self):
        self.path = os.path.join(self.dir, "edited.json")
        self.assertEqual(self.mkdir_result(), "13")
        st = os.stat(self.path)
        with open(self.path, "w") as f:
            json.dump(profile(14), f)  # the same size
        os.utime(self.path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
        self.assertEqual(os.stat(self.path).st_size, st.st_size)
        self.assertEqual(self.mkdir_result(), "14")


if __name__ == "__main__":
    tbtest.main()
