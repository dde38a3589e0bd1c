"""The shipped profiles are what the pipeline makes from the committed corpus.

Runs scripts/regen-profiles --from-corpus profiles/corpus.json into a temporary folder and compares
every generated file with the committed one in profiles/. A failure means someone changed the
generator (or edited a profile by hand) without regenerating: run
`scripts/regen-profiles --from-corpus profiles/corpus.json --from-scan profiles/scan.json` and
review the diff.
"""
import difflib
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

PROFILES = os.path.join(tbtest.SOURCE_DIR, "profiles")
REGEN = os.path.join(tbtest.SOURCE_DIR, "scripts", "regen-profiles")
FILES = ["default.json", "tightbox-sandbox", "landlock.json", "SUMMARY.txt", "corpus.json", "scan.json"]


class ProfilesFresh(unittest.TestCase):
    def test_regenerated_profiles_match(self):
        tbtest.need_file(os.path.join(PROFILES, "corpus.json"), "the committed corpus recording")
        tmp = tempfile.mkdtemp(prefix="tb-profiles-fresh-")
        try:
            p = subprocess.run([REGEN, "--tightbox", tbtest.TIGHTBOX, "--from-corpus",
                                os.path.join(PROFILES, "corpus.json"), "--from-scan",
                                os.path.join(PROFILES, "scan.json"), "--out", tmp],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            for f in FILES:
                with self.subTest(file=f):
                    with open(os.path.join(PROFILES, f)) as a, open(os.path.join(tmp, f)) as b:
                        committed, fresh = a.read(), b.read()
                    if committed != fresh:
                        diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                                            "profiles/" + f, "regenerated"))
                        self.fail("profiles/%s is stale; run scripts/regen-profiles --from-corpus "
                                  "profiles/corpus.json --from-scan profiles/scan.json\n%s" % (f, diff[:4000]))
            # Nothing but the outputs (no temporary files left in the output folder).
            self.assertEqual(sorted(os.listdir(tmp)), sorted(FILES))
        finally:
            shutil.rmtree(tmp)

    def test_default_is_small(self):
        """The x86_64 allowlist stays below Docker's default (300 names on x86_64, podman 4.3's
        311, measured with tightbox audit). The 15 recorded workloads gave 102 names with runc's
        prelude; the scan of Debian's python3 (lib-dynload, numpy, pandas) adds what the same
        interpreter reaches through glibc (issue 9), and the legacy forms of allowed calls, 200 in all. The bound catches a generator
        that starts allowing whole groups or a scan that stops excluding the dangerous set."""
        with open(os.path.join(PROFILES, "SUMMARY.txt")) as f:
            lines = f.read().splitlines()
        line = next(l for l in lines if l.startswith("x86_64: ") and "syscalls allowed" in l)
        n = int(line.split()[1])
        self.assertLess(n, 240, line)
        self.assertGreater(n, 30, line)
        counts = next(l for l in lines if l.startswith("x86_64: recorded "))
        self.assertIn("dangerous-denied", counts)


if __name__ == "__main__":
    tbtest.main()
