"""AppArmor enforcement end to end, on a kernel that has it: record a program, generate its AppArmor
profile, load it with apparmor_parser, run the program confined by it, and see an access the
recording never made denied by AppArmor (an apparmor="DENIED" audit record in the kernel log)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest
import vmlib

NAME = "tb-vm-aa-%d" % os.getpid()  # the AppArmor profile
CG = ("--cgroup-parent", vmlib.cgroup_parent("aa"))
# Reads a file the recording sees, then (with an argument) one it does not. Both are world-readable
# and visible in the sandbox: only AppArmor can tell them apart.
APP = """import errno, sys
print(open('/etc/debian_version').read().strip())
if len(sys.argv) > 1:
    try:
        open(sys.argv[1]).read(); print('read', sys.argv[1])
    except OSError as e:
        print('denied', errno.errorcode[e.errno])
"""
UNRECORDED = "/etc/issue"


def setUpModule():
    vmlib.need_guest()
    if not vmlib.apparmor_enabled():
        raise unittest.SkipTest("the kernel does not enforce AppArmor")
    tbtest.need_cmd("apparmor_parser")


def tearDownModule():
    vmlib.remove_cgroup_parent(CG[1])


def kernel_log():
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


def denials(log, profile):
    return [l for l in log.splitlines() if 'apparmor="DENIED"' in l and 'profile="%s"' % profile in l]


class AppArmor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tb-vm-aa-")
        os.chmod(cls.tmp, 0o755)
        cls.app_dir = os.path.join(cls.tmp, "app")
        os.mkdir(cls.app_dir)
        with open(os.path.join(cls.app_dir, "app.py"), "w") as f:
            f.write(APP)
        cls.vol = ("-v", cls.app_dir + ":/app:ro")
        rec = os.path.join(cls.tmp, "rec.json")
        p = tbtest.tightbox("record", *CG, *vmlib.SLOW, "--backend", "ptrace", "--name", "aa-app", "-o", rec,
                            *cls.vol, "--", tbtest.PYTHON, "/app/app.py", timeout=300)
        assert p.returncode == 0, p.stderr
        cls.policy = os.path.join(cls.tmp, "policy")
        os.mkdir(cls.policy)
        p = tbtest.tightbox("generate", "-q", "--name", NAME, "-o", cls.policy, rec)
        assert p.returncode == 0, p.stderr
        cls.profile_file = os.path.join(cls.policy, NAME)
        p = subprocess.run(["apparmor_parser", "-r", cls.profile_file], capture_output=True, text=True)
        assert p.returncode == 0, "apparmor_parser -r: " + p.stderr
        cls.loaded = True

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "loaded", False):
            subprocess.run(["apparmor_parser", "-R", cls.profile_file], capture_output=True)
        shutil.rmtree(cls.tmp)

    def run_app(self, *args, opts=()):
        res, _ = tbtest.run_json(*CG, *vmlib.SLOW, *opts, *self.vol, "--", tbtest.PYTHON, "/app/app.py", *args)
        return res

    def confined(self):
        return ("--security-opt", "apparmor=" + NAME)

    def test_profile_is_loaded_in_enforce_mode(self):
        with open("/sys/kernel/security/apparmor/profiles") as f:
            self.assertIn("%s (enforce)" % NAME, f.read())

    def test_recorded_program_runs_confined(self):
        res = self.run_app(opts=self.confined())
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(res["stdout"], vmlib.read("/etc/debian_version") + "\n")

    def test_unrecorded_access_is_denied_by_apparmor(self):
        # Without the profile the same read works: the denial below is AppArmor's alone.
        self.assertEqual(self.run_app(UNRECORDED)["stdout"].splitlines()[-1], "read " + UNRECORDED)
        before = len(denials(kernel_log(), NAME))
        res = self.run_app(UNRECORDED, opts=self.confined())
        self.assertEqual(res["stdout"].splitlines()[-1], "denied EACCES", res)
        new = denials(kernel_log(), NAME)[before:]
        self.assertTrue([l for l in new if 'name="%s"' % UNRECORDED in l and 'operation="open"' in l],
                        "no apparmor=\"DENIED\" record for %s: %r" % (UNRECORDED, new))

    def test_seccomp_and_apparmor_from_one_recording(self):
        res = self.run_app(opts=(*self.confined(), "--security-opt",
                                 "seccomp=" + os.path.join(self.policy, "seccomp.json"),
                                 "--security-opt", "landlock=" + os.path.join(self.policy, "landlock.json")))
        self.assertEqual(res["exit_code"], 0, res)

    def test_explain_names_the_apparmor_denial(self):
        res, p = tbtest.command_json("explain", *CG, *vmlib.SLOW, *self.confined(), *self.vol, "--",
                                     tbtest.PYTHON, "/app/app.py", UNRECORDED)
        self.assertEqual(res["stdout"].splitlines()[-1], "denied EACCES", res)
        aa = res["explain"].get("apparmor")
        self.assertIsNotNone(aa, "explain does not report AppArmor denials: %s" % json.dumps(res["explain"])[:800])
        self.assertTrue([d for d in aa["denials"] if d["name"] == UNRECORDED and d["operation"] == "open"], aa)


if __name__ == "__main__":
    tbtest.main()
