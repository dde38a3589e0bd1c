"""The scan's glibc symbol table holds against the glibc on this machine (issue 9).

tests/probes/scan-libc-probe.c calls a representative set of glibc functions, one case per run,
under `tightbox record`; every syscall a case makes beyond the probe's own start-up ("none") must
be in the table's entry (or, for a symbol without a row, the same-name rule) of one of the
functions the case calls (`tightbox scan --print-table`). A table row that misses a syscall its
function makes fails here.
"""
import json
import os
import tempfile
import unittest

import tbtest

# case -> the glibc functions it calls (the probe's source is the reference).
CASES = {
    "open": ["open"],
    "stat": ["stat", "lstat", "fstat"],
    "getrlimit": ["getrlimit"],
    "fork": ["fork", "waitpid", "_exit"],
    "raise": ["signal", "raise"],
    "sigaction": ["sigaction", "sigprocmask"],
    "nanosleep": ["nanosleep", "sleep"],
    "mkstemp": ["mkstemp"],
    "mkdtemp": ["mkdtemp"],
    "opendir": ["opendir", "readdir", "closedir"],
    "fopen": ["fopen", "fread", "fclose"],
    "printf": ["printf", "puts", "fwrite", "fflush"],
    "malloc": ["malloc", "free"],
    "pthread_create": ["pthread_create", "pthread_join"],
    "isatty": ["isatty"],
    "sigaltstack": ["malloc", "sigaltstack"],
    "clock": ["clock_gettime", "gettimeofday", "time"],
}


def recorded(case):
    with tempfile.TemporaryDirectory(prefix="tb-scan-table-") as tmp:
        out = os.path.join(tmp, "rec.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", "-o", out, "-v",
                            tbtest.PROBES + ":/probes:ro", "--", "/probes/scan-libc-probe", case)
        if p.returncode != 0:
            raise AssertionError("record of %s failed (%d): %s" % (case, p.returncode, p.stderr[-2000:]))
        with open(out) as f:
            rec = json.load(f)
    return set(rec["syscalls"]["x86_64"])


class LibcTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        tbtest.need_file(tbtest.probe("scan-libc-probe"), "the probe is built with the tests")
        p = tbtest.tightbox("scan", "--print-table", check=True)
        cls.table = json.loads(p.stdout)
        cls.baseline = recorded("none")

    def allowed(self, symbols):
        out = set()
        for s in symbols:
            out |= set(self.table[s]["syscalls"]) if s in self.table else {s}
        return out

    def test_recorded_sets_are_covered(self):
        for case, symbols in CASES.items():
            with self.subTest(case=case):
                extra = recorded(case) - self.baseline
                missing = extra - self.allowed(symbols)
                self.assertFalse(missing, "%s makes %s, which the table's rows for %s lack"
                                 % (case, sorted(missing), ", ".join(symbols)))

    def test_measured_rows_are_exercised(self):
        """Every row marked 'measured' is called by some case here."""
        called = {s for syms in CASES.values() for s in syms}
        measured = {s for s, e in self.table.items() if e["derived"] == "measured"}
        self.assertFalse(measured - called, "rows marked measured but not probed: %s"
                         % sorted(measured - called))


if __name__ == "__main__":
    tbtest.main()
