"""The guest is the second kernel scripts/vm-test promises: AppArmor enforcing, only the unified
cgroup hierarchy, a Landlock ABI older than the host's, and clock_gettime reaching the kernel.

Outside the guest (TB_VM_GUEST unset) every test skips: the host is the other kernel.
"""
import json
import os
import tempfile
import unittest

import tbtest
import vmlib


def setUpModule():
    vmlib.need_guest()


class Kernel(unittest.TestCase):
    def test_apparmor_enforcing(self):
        self.assertTrue(vmlib.apparmor_enabled(), "AppArmor is not enabled in the guest kernel")
        self.assertIn("apparmor", vmlib.read("/sys/kernel/security/lsm").split(","))

    def test_pure_cgroup2(self):
        self.assertEqual(vmlib.cgroup_fstypes(), {"cgroup2"})
        for c in ("memory", "pids", "cpu"):
            self.assertIn(c, vmlib.read("/sys/fs/cgroup/cgroup.controllers").split())

    def test_landlock_older_abi(self):
        abi = vmlib.landlock_abi()
        self.assertGreater(abi, 0, "Landlock is not enabled")
        self.assertLess(abi, 6, "this kernel scopes signals itself: not the older-ABI case")

    def test_clock_gettime_reaches_the_kernel(self):
        # The shipped default minus the vDSO-backed names: where the vDSO answers, time.time()
        # still works; here the call reaches seccomp and fails. That is the case issue 16 is about.
        with open(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")) as f:
            prof = json.load(f)
        for rule in prof["syscalls"]:
            rule["names"] = [n for n in rule["names"] if n not in vmlib.VDSO_NAMES]
        prof["syscalls"] = [r for r in prof["syscalls"] if r["names"]]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(prof, f)
            f.flush()
            res = tbtest.run_py("import time; print(time.time() > 0)", "--security-opt", "seccomp=" + f.name,
                                "--timeout", "60")
        self.assertNotEqual(res["stdout"], "True\n",
                            "clock_gettime was answered by the vDSO (clock source %s): force "
                            "clocksource=jiffies" % vmlib.read(vmlib.CLOCKSOURCE))
        self.assertIn("Errno", res["stderr"])


if __name__ == "__main__":
    tbtest.main()
