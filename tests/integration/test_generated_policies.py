"""Acceptance of `tightbox generate`: its policies in real runs.

- Every corpus workload (scripts/workloads/*.py) passes under `tightbox run` with the seccomp profile
  and the Landlock ruleset generated from the committed corpus recording (profiles/corpus.json),
  and under the shipped profiles/default.json + profiles/landlock.json.
- The generated Landlock ruleset really confines: a file no workload read is refused (EACCES).
- Dangerous calls are refused with the documented errno in a real run of a probe whose own
  recording the profile was generated from: ptrace, unshare and clone with CLONE_NEWUSER, mount,
  socket AF_PACKET (also with high bits set), AF_ALG, ioctl TIOCSTI/TIOCLINUX (also with high bits
  set in the 64-bit register, which the kernel ignores). Each is compared with the same call under
  seccomp=unconfined where that differs, so the filter is shown to be what refused it.
- The runc prelude: a `--runtime runc` profile runs a workload under podman + runc, while a profile
  without the prelude makes runc itself fail (skipped without podman or the base image).
"""
import errno
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import tbtest

SCRIPTS = os.path.join(tbtest.SOURCE_DIR, "scripts")
WORKLOADS = sorted(glob.glob(os.path.join(SCRIPTS, "workloads", "*.py")))
PROFILES = os.path.join(tbtest.SOURCE_DIR, "profiles")
CORPUS = os.path.join(PROFILES, "corpus.json")
PROBE = "gen-policy-probe"
VOL = ["-v", tbtest.PROBES + ":/probes:ro"]
TMP = None


def setUpModule():
    global TMP
    tbtest.need_root()
    tbtest.need_file(tbtest.TIGHTBOX, "the tightbox binary")
    tbtest.need_file(CORPUS, "the committed corpus recording")
    TMP = tempfile.mkdtemp(prefix="tb-genpol-")


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP)


def generate(name, *args, recs=(CORPUS,)):
    out = os.path.join(TMP, name)
    os.makedirs(out, exist_ok=True)
    p = tbtest.tightbox("generate", "-q", "-o", out, *args, *recs)
    if p.returncode != 0:
        raise AssertionError("generate %s failed: %s" % (name, p.stderr.decode()))
    return out


class CorpusWorkloads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gen = generate("corpus")

    def run_workload(self, path, *opts):
        name = os.path.basename(path)[:-3]
        res, p = tbtest.run_json(*opts, "--script", path, timeout=300)
        self.assertEqual(res["exit_code"], 0, "%s under %s: %r" % (name, opts, res))
        self.assertIn("OK " + name, res["stdout"])

    def test_generated_seccomp(self):
        for w in WORKLOADS:
            with self.subTest(workload=os.path.basename(w)):
                self.run_workload(w, "--security-opt", "seccomp=" + os.path.join(self.gen, "seccomp.json"))

    def test_generated_seccomp_and_landlock(self):
        for w in WORKLOADS:
            with self.subTest(workload=os.path.basename(w)):
                self.run_workload(w, "--security-opt", "seccomp=" + os.path.join(self.gen, "seccomp.json"),
                                  "--security-opt", "landlock=" + os.path.join(self.gen, "landlock.json"))

    def test_shipped_profiles(self):
        for w in WORKLOADS:
            with self.subTest(workload=os.path.basename(w)):
                self.run_workload(w, "--security-opt", "landlock=" + os.path.join(PROFILES, "landlock.json"))

    def test_landlock_refuses_unrecorded_files(self):
        code = "open('/etc/debian_version').read(); print('read')"
        ll = "landlock=" + os.path.join(self.gen, "landlock.json")
        res = tbtest.run_py(code, "--security-opt", ll)
        self.assertNotEqual(res["exit_code"], 0, res)
        self.assertIn("PermissionError", res["stderr"])
        res = tbtest.run_py(code, "--security-opt", "landlock=unconfined")
        self.assertEqual(res["stdout"], "read\n", res)
        # /tmp stays writable under the generated ruleset.
        res = tbtest.run_py("open('/tmp/x', 'w').write('1'); print(open('/tmp/x').read())",
                            "--security-opt", ll)
        self.assertEqual(res["stdout"], "1\n", res)


class DangerousCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(tbtest.probe(PROBE)):
            raise unittest.SkipTest("probe %s not built" % PROBE)
        rec = os.path.join(TMP, "probe.json")
        p = tbtest.tightbox("record", "--backend", "ptrace", *VOL, "-o", rec, "--name", "probe",
                            "--", "/probes/" + PROBE, "baseline")
        if p.returncode != 0:
            raise AssertionError("recording the probe failed: %s" % p.stderr.decode())
        cls.gen = generate("probe", recs=(rec,))
        cls.seccomp = "seccomp=" + os.path.join(cls.gen, "seccomp.json")

    def errno_of(self, mode, seccomp):
        res, p = tbtest.run_json("--security-opt", seccomp, *VOL, "--", "/probes/" + PROBE, mode)
        m = re.match(r"^%s errno=(\d+)$" % re.escape(mode), res["stdout"].strip())
        self.assertIsNotNone(m, "probe %s printed %r (%r)" % (mode, res["stdout"], res))
        return int(m.group(1))

    def test_baseline_runs(self):
        self.assertEqual(self.errno_of("baseline", self.seccomp), 0)
        self.assertEqual(self.errno_of("fork", self.seccomp), 0)
        self.assertEqual(self.errno_of("socket-unix", self.seccomp), 0)

    def test_refused(self):
        # mode -> errno under the generated profile
        expected = {
            "ptrace": errno.EPERM,
            "unshare-user": errno.EPERM,
            "clone-newuser": errno.EPERM,
            "clone-newns": errno.EPERM,
            "mount": errno.EPERM,
            "socket-packet": errno.EPERM,
            "socket-packet-hi": errno.EPERM,
            "socket-alg": errno.EPERM,
            "socket-inet": errno.ENOSYS,  # not recorded, not a risky family: the default
            "tiocsti": errno.EPERM,
            "tiocsti-hi": errno.EPERM,
            "tioclinux-hi": errno.EPERM,
        }
        for mode, want in expected.items():
            with self.subTest(mode=mode):
                got = self.errno_of(mode, self.seccomp)
                self.assertEqual(got, want, "%s: errno %d (%s), expected %s" %
                                 (mode, got, os.strerror(got), errno.errorcode[want]))

    def test_filter_is_what_refused(self):
        """Without seccomp the same calls get through or fail differently."""
        for mode in ("ptrace", "unshare-user", "clone-newuser", "tiocsti", "tiocsti-hi", "socket-alg",
                     "socket-inet"):
            with self.subTest(mode=mode):
                self.assertNotIn(self.errno_of(mode, "seccomp=unconfined"), (errno.EPERM, errno.ENOSYS))

    def test_high_bits_of_other_requests_pass(self):
        # The masked comparison only matches the two requests: TCGETS with high bits set is
        # TCGETS to the kernel (ENOTTY on /dev/null), as without a filter.
        self.assertEqual(self.errno_of("tcgets-hi", self.seccomp), errno.ENOTTY)
        self.assertEqual(self.errno_of("tcgets-hi", "seccomp=unconfined"), errno.ENOTTY)


class RuncPrelude(unittest.TestCase):
    IMAGE = "localhost/tightbox-base:bookworm"

    @classmethod
    def setUpClass(cls):
        tbtest.need_cmd("podman")
        tbtest.need_cmd("runc")
        out = subprocess.run([os.path.join(SCRIPTS, "podman-env")], capture_output=True, text=True, check=True)
        cls.env = os.environ.copy()
        for line in out.stdout.splitlines():
            k, v = line[len("export "):].split("=", 1)
            cls.env[k] = v.strip("'")
        if subprocess.run(["podman", "image", "exists", cls.IMAGE], env=cls.env).returncode != 0:
            raise unittest.SkipTest("podman image %s not built (scripts/build-image)" % cls.IMAGE)

    def podman(self, profile, script):
        return subprocess.run(["podman", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
                               "--security-opt", "no-new-privileges", "--security-opt", "seccomp=" + profile,
                               "--user", "65534:65534", "-v", script + ":/sandbox/script.py:ro", self.IMAGE,
                               "python3", "/sandbox/script.py"],
                              capture_output=True, text=True, env=self.env, timeout=180)

    def test_runc_needs_its_prelude(self):
        w = os.path.join(SCRIPTS, "workloads", "stdlib_data.py")
        with_prelude = generate("runc", "--runtime", "runc")
        p = self.podman(os.path.join(with_prelude, "seccomp.json"), w)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK stdlib_data", p.stdout)
        without = generate("tightbox-only", "--runtime", "tightbox")
        p = self.podman(os.path.join(without, "seccomp.json"), w)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("procfs", p.stderr)  # runc's fstatfs check of /proc/self/fd


if __name__ == "__main__":
    tbtest.main()
