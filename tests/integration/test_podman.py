"""tightbox's profiles in a real engine: podman 4.3 + runc with the seed's full `docker run` line.

For each seccomp profile - one generated here for engines (the corpus recorded with the ptrace
backend by scripts/record-corpus, then `tightbox generate --runtime runc`), the shipped
profiles/default.json, and podman's own /usr/share/containers/seccomp.json as the control - the
corpus workloads (scripts/workloads/*.py) must run, and the seed's three verification attacks must be contained: network blocked, fork bomb
contained, writes outside /tmp refused. The other limits of the flag line are checked from inside
the container too.

Needs root, podman, runc and the Debian base image, which scripts/build-image builds once (about a
minute from the Debian mirror apt uses) and caches in $TB_PODMAN_DIR (/var/tmp/tightbox-podman);
the whole file skips (77) with the reason when any of that is missing.
"""
import errno
import glob
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import unittest

import tbtest
from tbengines import SCRIPTS, SEED_FLAGS, WORKLOADS

GENERATED = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
CONTROL = "/usr/share/containers/seccomp.json"


ENV = None
IMAGE = None
GEN_DIR = None
GEN_WHY = None  # why the engine profile could not be generated (its tests skip or fail with it)


def setUpModule():
    global ENV, IMAGE
    tbtest.need_root()
    tbtest.need_cmd("podman")
    tbtest.need_cmd("runc")
    tbtest.need_cmd("debootstrap")
    out = subprocess.run([os.path.join(SCRIPTS, "podman-env")], capture_output=True, text=True, check=True)
    ENV = os.environ.copy()
    for line in out.stdout.splitlines():
        k, v = line[len("export "):].split("=", 1)
        ENV[k] = v.strip("'")
    # Builds the image the first time only (cached); exit 3 means the machine cannot (no mirror...).
    b = subprocess.run([os.path.join(SCRIPTS, "build-image")], capture_output=True, text=True, env=ENV,
                       timeout=1200)
    if b.returncode == 3:
        raise unittest.SkipTest("cannot build the base image: " + b.stderr.strip().splitlines()[-1])
    if b.returncode != 0:
        raise RuntimeError("scripts/build-image failed (exit %d): %s" % (b.returncode, b.stderr[-2000:]))
    IMAGE = b.stdout.strip().splitlines()[-1]
    generate_engine_profile()


def generate_engine_profile():
    """Records the corpus and generates the runc flavour of the profile into GEN_DIR."""
    global GEN_DIR, GEN_WHY
    if not os.access(tbtest.TIGHTBOX, os.X_OK):
        GEN_WHY = "%s not built" % tbtest.TIGHTBOX
        return
    GEN_DIR = tempfile.mkdtemp(prefix="tb-test-podman-")
    rec = os.path.join(GEN_DIR, "corpus.json")
    p = subprocess.run([tbtest.PYTHON, os.path.join(SCRIPTS, "record-corpus"), "--backend", "ptrace",
                        "--tightbox", tbtest.TIGHTBOX, "-o", rec], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        GEN_WHY = "record-corpus failed (exit %d): %s %s" % (p.returncode, p.stdout[-1500:], p.stderr[-1500:])
        return
    p = subprocess.run([tbtest.TIGHTBOX, "generate", "--runtime", "runc", "-q", "-o", GEN_DIR, rec],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        GEN_WHY = "tightbox generate --runtime runc failed (exit %d): %s" % (p.returncode, p.stderr[-1500:])


def tearDownModule():
    if GEN_DIR:
        shutil.rmtree(GEN_DIR, ignore_errors=True)
    tbtest.remove_podman_cgroups()


def podman_run(profile, argv, user="65534:65534", volumes=(), extra=(), timeout=120):
    """Runs ARGV in a container with the seed's flags and PROFILE; always removes the container."""
    args = ["--rm", *SEED_FLAGS, "--security-opt", "seccomp=" + profile, "--user", user]
    for src, dst in volumes:
        args += ["--volume", "%s:%s:ro" % (src, dst)]
    args += [*extra, IMAGE, *argv]
    return tbtest.podman_run("tb-test-podman", args, env=ENV, timeout=timeout)


def py(profile, code, **kw):
    return podman_run(profile, ["/usr/bin/python3", "-c", code], **kw)


def report(code):
    """Python source printing one JSON line with what CODE raised: {"ok": ..., "errno": ..., "type": ...}."""
    return ("import json\ntry:\n" + "".join("    %s\n" % l for l in code.splitlines()) +
            "    r = {'ok': True}\nexcept OSError as e:\n    r = {'ok': False, 'errno': e.errno, 'type': type(e).__name__}\n"
            "print(json.dumps(r))\n")


class _Engine:
    """The same checks for each profile; subclasses set PROFILE."""
    PROFILE = None

    def setUp(self):
        if not os.path.exists(self.PROFILE):
            self.skipTest("%s missing (run tightbox generate)" % self.PROFILE)

    def run_report(self, code, **kw):
        p = py(self.PROFILE, report(code), **kw)
        self.assertEqual(p.returncode, 0, "rc=%d stderr=%s" % (p.returncode, p.stderr[-1500:]))
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_workloads(self):
        # As the seed's executor runs them: the script bound read-only at /sandbox/script.py.
        scripts = sorted(glob.glob(os.path.join(WORKLOADS, "*.py")))
        if not scripts:
            self.skipTest("no workloads in %s yet" % WORKLOADS)
        failed = []
        for s in scripts:
            p = podman_run(self.PROFILE, ["/usr/bin/python3", "/sandbox/script.py"],
                           volumes=[(s, "/sandbox/script.py")], extra=["--workdir", "/sandbox"], timeout=300)
            if p.returncode != 0 or not p.stdout.startswith("OK"):
                failed.append("%s: rc=%d %s %s" % (os.path.basename(s), p.returncode, p.stdout.strip()[-200:],
                                                   p.stderr.strip()[-600:]))
        self.assertEqual(failed, [], "workloads failed under podman with %s" % self.PROFILE)

    # Seed verification test 1. The address is TEST-NET-1 (RFC 5737): nothing answers there even if
    # the container had a network, so the test can never reach a real host.
    def test_network_blocked(self):
        p = py(self.PROFILE, "import urllib.request; urllib.request.urlopen('http://192.0.2.1/', timeout=5)")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("URLError", p.stderr)
        # Which errno says how it was blocked: no route (netns has only lo) or the profile's denial.
        p = py(self.PROFILE, "import json, urllib.request, urllib.error\n"
                             "try:\n    urllib.request.urlopen('http://192.0.2.1/', timeout=5); r = 'connected'\n"
                             "except urllib.error.URLError as e:\n    r = getattr(e.reason, 'errno', str(e.reason))\n"
                             "print(json.dumps(r))")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(json.loads(p.stdout), (errno.ENETUNREACH, errno.EPERM, errno.EACCES, errno.ENOSYS,
                                             errno.EAFNOSUPPORT))
        r = py(self.PROFILE, "import os; print(sorted(os.listdir('/sys/class/net')))")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "['lo']")

    # Seed verification test 2: exits on its own with BlockingIOError instead of filling the host.
    def test_fork_bomb_contained(self):
        p = py(self.PROFILE, "import os; [os.fork() for _ in range(1000)]", timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("BlockingIOError", p.stderr)
        self.assertNotIn("MemoryError", p.stderr)

    # Seed verification test 3, as the sandbox user and as root without capabilities: the second
    # shows the root filesystem itself is read-only (EROFS), not just owned by someone else.
    def test_write_outside_tmp_fails(self):
        p = py(self.PROFILE, "open('/etc/pwned', 'w').write('test')")
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"PermissionError|Read-only file system")
        r = self.run_report("open('/etc/pwned', 'w').write('test')", user="0:0")
        self.assertEqual(r, {"ok": False, "errno": errno.EROFS, "type": "OSError"})
        r = self.run_report("open('/tmp/ok', 'w').write('test')")
        self.assertEqual(r, {"ok": True})

    def test_tmp_is_noexec_and_capped(self):
        r = self.run_report("import shutil, os\nshutil.copy('/bin/true', '/tmp/t')\nos.chmod('/tmp/t', 0o755)\n"
                            "os.execv('/tmp/t', ['/tmp/t'])")
        self.assertEqual(r["errno"], errno.EACCES)
        r = self.run_report("f = open('/tmp/big', 'wb')\nfor _ in range(60): f.write(b'x' * (1 << 20)); f.flush()")
        self.assertEqual(r["errno"], errno.ENOSPC)

    def test_process_limits(self):
        code = ("import os, resource\n"
                "st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
                "print(os.getuid(), os.getgid(), st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(), st['Seccomp'].strip(),"
                " resource.getrlimit(resource.RLIMIT_NOFILE), resource.getrlimit(resource.RLIMIT_NPROC))")
        p = py(self.PROFILE, code)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "65534 65534 0000000000000000 0000000000000000 1 2 (64, 64) (32, 32)")

    def test_memory_limit_kills(self):
        # 400 MiB touched under --memory 256m --memory-swap 256m: the OOM killer ends it (137).
        p = py(self.PROFILE, "b = bytearray(400 << 20)\nprint('survived')")
        self.assertEqual(p.returncode, 137, p.stderr[-500:])
        self.assertNotIn("survived", p.stdout)


class TestPodmanEngineProfile(_Engine, unittest.TestCase):
    """The corpus recorded now, generated with --runtime runc: what a user does for docker/podman."""
    PROFILE = None

    def setUp(self):
        if GEN_WHY and "not built" in GEN_WHY:
            self.skipTest(GEN_WHY)
        self.assertIsNone(GEN_WHY, GEN_WHY)
        self.PROFILE = os.path.join(GEN_DIR, "seccomp.json")
        self.assertTrue(os.path.exists(self.PROFILE), "tightbox generate wrote no seccomp.json")

    def test_export_command_line_runs(self):
        # `tightbox export --format podman` prints the whole command line: it must run as printed.
        p = tbtest.tightbox("export", "--format", "podman", "--profile-dir", GEN_DIR, "--image", IMAGE,
                            "--no-apparmor", "--", "/usr/bin/python3", "-c",
                            "import os; print('OK', os.getuid(), open('/proc/self/status').read().count('Seccomp:\\t2'))")
        self.assertEqual(p.returncode, 0, p.stderr)
        argv = shlex.split(p.stdout.decode().replace("\\\n", " "))
        self.assertEqual(argv[:2], ["podman", "run"])
        r = tbtest.podman_run("tb-test-podman", argv[2:], env=ENV, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "OK 65534 1")


class TestPodmanShippedProfile(_Engine, unittest.TestCase):
    """profiles/default.json as shipped."""
    PROFILE = GENERATED


class TestPodmanControlProfile(_Engine, unittest.TestCase):
    PROFILE = CONTROL


if __name__ == "__main__":
    tbtest.main()
