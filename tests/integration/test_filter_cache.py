"""The compiled-filter cache must never weaken a filter: it is keyed by the full profile bytes and
options, checked byte for byte, and ignored when tampered with or accessible to others."""
import glob
import json
import os
import shutil
import tempfile
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


if __name__ == "__main__":
    tbtest.main()
