"""sandbox.Dockerfile built here with podman (scripts/build-sandbox-image), and the profile it records
inside the build used by podman + runc with the seed's flag line.

The image build compiles tightbox in a builder stage, records scripts/workloads with the ptrace
backend inside the image, and writes the generated profiles to /etc/tightbox/. This test checks
what the seed's Dockerfile promised (unprivileged user, no bash) and that the corpus runs under the
profile the image carries. Needs root, podman, runc, debootstrap and a Debian mirror for the first
build (cached afterwards in $TB_PODMAN_DIR); skips (77) with the reason otherwise.
"""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest
from tbengines import SCRIPTS, SEED_FLAGS, WORKLOADS

TAG = "localhost/tightbox-sandbox:test-%d" % os.getpid()
ENV = None
OUT = None


def setUpModule():
    global ENV, OUT
    tbtest.need_root()
    for c in ("podman", "runc", "debootstrap"):
        tbtest.need_cmd(c)
    if not glob.glob(os.path.join(WORKLOADS, "*.py")):
        raise unittest.SkipTest("no workloads in %s to record" % WORKLOADS)
    out = subprocess.run([os.path.join(SCRIPTS, "podman-env")], capture_output=True, text=True, check=True)
    ENV = os.environ.copy()
    for line in out.stdout.splitlines():
        k, v = line[len("export "):].split("=", 1)
        ENV[k] = v.strip("'")
    OUT = tempfile.mkdtemp(prefix="tb-test-image-")
    b = subprocess.run([os.path.join(SCRIPTS, "build-sandbox-image"), "--tag", TAG, "--out", OUT],
                       capture_output=True, text=True, env=ENV, timeout=1500)
    if b.returncode == 3:
        raise unittest.SkipTest("cannot build the base images: " + b.stderr.strip().splitlines()[-1])
    if b.returncode != 0:
        raise RuntimeError("scripts/build-sandbox-image failed (exit %d): %s" % (b.returncode, b.stderr[-3000:]))


def tearDownModule():
    if ENV is not None:
        subprocess.run(["podman", "rmi", "-f", TAG], capture_output=True, env=ENV)
        # The build's intermediate stage images carry no tag; remove the dangling ones we made.
        subprocess.run(["podman", "image", "prune", "-f"], capture_output=True, env=ENV)
    if OUT:
        shutil.rmtree(OUT, ignore_errors=True)
    tbtest.remove_podman_cgroups()


def run(argv, flags=(), timeout=300):
    return tbtest.podman_run("tb-test-image", ["--rm", *flags, TAG, *argv], env=ENV, timeout=timeout)


def image_profile():
    """The seccomp profile the build generated (the one JSON file with a defaultAction)."""
    for p in sorted(glob.glob(os.path.join(OUT, "*.json"))):
        with open(p) as f:
            try:
                d = json.load(f)
            except ValueError:
                continue
        if isinstance(d, dict) and "defaultAction" in d:
            return p
    return None


class TestSandboxImage(unittest.TestCase):
    def test_user_and_no_bash(self):
        p = run(["/usr/bin/python3", "-c", "import os; print(os.getuid(), os.getgid(), os.getcwd(), "
                 "os.path.exists('/bin/bash'), os.path.exists('/bin/sh'))"], flags=["--network", "none"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "65534 65534 /sandbox False True")

    def test_profile_generated_in_build(self):
        prof = image_profile()
        self.assertIsNotNone(prof, "no seccomp profile in the image's /etc/tightbox: %s" % os.listdir(OUT))
        with open(prof) as f:
            d = json.load(f)
        # An allowlist: the default action denies.
        self.assertIn(d["defaultAction"], ("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL",
                                           "SCMP_ACT_TRAP"))

    def test_workloads_under_image_profile(self):
        prof = image_profile()
        self.assertIsNotNone(prof)
        failed = []
        for s in sorted(glob.glob(os.path.join(WORKLOADS, "*.py"))):
            n = os.path.basename(s)
            p = run(["/usr/bin/python3", "/sandbox/script.py"],
                    flags=[*SEED_FLAGS, "--security-opt", "seccomp=" + prof, "--volume", "%s:/sandbox/script.py:ro" % s])
            if p.returncode != 0 or not p.stdout.startswith("OK"):
                failed.append("%s: rc=%d %s %s" % (n, p.returncode, p.stdout.strip()[-200:], p.stderr.strip()[-600:]))
        self.assertEqual(failed, [])

    def test_fork_bomb_under_image_profile(self):
        prof = image_profile()
        self.assertIsNotNone(prof)
        p = run(["/usr/bin/python3", "-c", "import os; [os.fork() for _ in range(1000)]"],
                flags=[*SEED_FLAGS, "--security-opt", "seccomp=" + prof])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("BlockingIOError", p.stderr)


if __name__ == "__main__":
    tbtest.main()
