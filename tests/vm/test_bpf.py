"""The bpf recorder on the guest's kernel (Debian's 6.1, CO-RE against its own BTF): both backends
record the same thing, as tests/integration/test_backends_agree.py checks on the host, on two
workloads (directory listings and file operations: what the bpf side once missed).

Where this kernel's verifier refuses the program, the comparison cannot run: the test then
checks what a user gets instead - `--backend bpf` fails with the kernel's refusal named, and the
default `--backend auto` records with ptrace and says so - and skips with that reason."""
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


def bpf_refused():
    """The kernel's refusal of the program (stderr of an explicit bpf recording), or None."""
    with tempfile.TemporaryDirectory(prefix="tb-vm-bpf-") as d:
        p = tbtest.tightbox("record", "--backend", "bpf", "-o", os.path.join(d, "r.json"),
                            "--", "/bin/true", timeout=120)
        if p.returncode != 0 and b"loading the program" in p.stderr:
            return p.stderr.decode().strip()
    return None


class BackendsAgreeOnSecondKernel(agree.BackendsAgree):
    def setUp(self):
        refused = bpf_refused()
        if refused:
            self.skipTest("this kernel refuses the eBPF program: " + refused)
        super().setUp()


class AutoFallsBackToPtrace(unittest.TestCase):
    def test_auto_records_with_ptrace_when_bpf_cannot_load(self):
        refused = bpf_refused()
        if not refused:
            self.skipTest("the eBPF program loads on this kernel")
        with tempfile.TemporaryDirectory(prefix="tb-vm-bpf-") as d:
            out = os.path.join(d, "r.json")
            p = tbtest.tightbox("record", "-o", out, "--", "/bin/true", timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertIn(b"could not load", p.stderr)
            with open(out) as f:
                rec = json.load(f)
            self.assertEqual(rec["provenance"]["backend"], "ptrace")


if __name__ == "__main__":
    tbtest.main()
