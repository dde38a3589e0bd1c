"""The bpf recorder on the guest's kernel (Debian 12's 6.1, CO-RE against its own BTF): the
program must load there - docs/kernels.md names 6.1 as the oldest kernel it supports - and both
backends must record the same thing, as tests/integration/test_backends_agree.py checks on the
host, on two workloads (directory listings and file operations: what the bpf side once missed).

Before, 6.1's verifier refused the program (EACCES) and `--backend auto` quietly recorded with
ptrace; this test only checked that fallback, so nothing noticed. Now a refusal fails the test
with the verifier's log (TIGHTBOX_BPF_LOG) on the console."""
import json
import os
import sys
import tempfile
import unittest

import tbtest
import vmlib

sys.path.insert(0, os.path.join(tbtest.SOURCE_DIR, "tests", "integration"))
import test_backends_agree as agree  # noqa: E402

agree.WORKLOADS = [w for w in agree.WORKLOADS if os.path.basename(w) in ("os_misc.py", "stdlib_files.py")]


def setUpModule():
    vmlib.need_guest()


class BpfLoadsOnSecondKernel(unittest.TestCase):
    def test_bpf_backend_loads_and_records(self):
        with tempfile.TemporaryDirectory(prefix="tb-vm-bpf-") as d:
            out, log = os.path.join(d, "r.json"), os.path.join(d, "libbpf.log")
            p = tbtest.tightbox("record", "--backend", "bpf", "-o", out, "--", "/bin/ls", "/",
                                env=dict(os.environ, TIGHTBOX_BPF_LOG=log), timeout=120)
            if p.returncode != 0:
                verifier = ""
                if os.path.exists(log):
                    with open(log, errors="replace") as f:
                        verifier = "".join(f.readlines()[-60:])
                self.fail("record --backend bpf failed on %s (exit %d): %s\nlibbpf log tail:\n%s"
                          % (os.uname().release, p.returncode, p.stderr.decode(), verifier))
            with open(out) as f:
                rec = json.load(f)
            self.assertEqual(rec["provenance"]["backend"], "bpf")
            self.assertIn("getdents64", rec["syscalls"]["x86_64"])
            self.assertIn("/", {path.rstrip("/") or "/" for path in rec["files"]})

    def test_auto_picks_bpf(self):
        with tempfile.TemporaryDirectory(prefix="tb-vm-bpf-") as d:
            out = os.path.join(d, "r.json")
            p = tbtest.tightbox("record", "-o", out, "--", "/bin/true", timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertNotIn(b"could not load", p.stderr)
            with open(out) as f:
                self.assertEqual(json.load(f)["provenance"]["backend"], "bpf")


class BackendsAgreeOnSecondKernel(agree.BackendsAgree):
    pass


if __name__ == "__main__":
    tbtest.main()
