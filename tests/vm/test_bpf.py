"""The bpf recorder on the guest's kernel (Debian's 6.1, CO-RE against its own BTF): both backends
record the same thing, as tests/integration/test_backends_agree.py checks on the host, on two
workloads (directory listings and file operations: what the bpf side once missed)."""
import os
import sys

import tbtest
import vmlib

sys.path.insert(0, os.path.join(tbtest.SOURCE_DIR, "tests", "integration"))
import test_backends_agree as agree  # noqa: E402

agree.WORKLOADS = [w for w in agree.WORKLOADS if os.path.basename(w) in ("os_misc.py", "stdlib_files.py")]


def setUpModule():
    vmlib.need_guest()


class BackendsAgreeOnSecondKernel(agree.BackendsAgree):
    pass


if __name__ == "__main__":
    tbtest.main()
