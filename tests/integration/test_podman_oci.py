"""The OCI wiring `tightbox export --format oci` prints, run by runc itself (the runtime under podman).

The corpus is recorded with the ptrace backend and generated with `--runtime runc`; export turns it
into a config.json; runc runs it around the base image's rootfs (scripts/build-image). The workloads
must run and every limit the config claims must hold inside: uid, capabilities, no_new_privs,
seccomp, read-only root, noexec /tmp, pids (fork bomb), memory (OOM kill), loopback only.
Needs root, runc, podman + debootstrap for the base image (cached) and a built tightbox; skips (77)
with the reason otherwise.
"""
import errno
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

SCRIPTS = os.path.join(tbtest.SOURCE_DIR, "scripts")
WORKLOADS = os.path.join(SCRIPTS, "workloads")
TMP = None
BUNDLE = None
CONFIG = None


def setUpModule():
    global TMP, BUNDLE, CONFIG
    tbtest.need_root()
    for c in ("runc", "podman", "debootstrap"):
        tbtest.need_cmd(c)
    if not os.access(tbtest.TIGHTBOX, os.X_OK):
        raise unittest.SkipTest("%s not built" % tbtest.TIGHTBOX)
    b = subprocess.run([os.path.join(SCRIPTS, "build-image")], capture_output=True, text=True, timeout=1200)
    if b.returncode == 3:
        raise unittest.SkipTest("cannot build the base image: " + b.stderr.strip().splitlines()[-1])
    if b.returncode != 0:
        raise RuntimeError("scripts/build-image failed (exit %d): %s" % (b.returncode, b.stderr[-2000:]))
    tar = os.path.join(os.environ.get("TB_PODMAN_DIR", "/var/tmp/tightbox-podman"), "images", "base-bookworm",
                       "rootfs.tar")
    TMP = tempfile.mkdtemp(prefix="tb-test-oci-", dir="/var/tmp")
    BUNDLE = os.path.join(TMP, "bundle")
    os.makedirs(os.path.join(BUNDLE, "rootfs"))
    subprocess.run(["tar", "-C", os.path.join(BUNDLE, "rootfs"), "-xf", tar], check=True)
    prof = os.path.join(TMP, "profiles")
    os.makedirs(prof)
    rec = os.path.join(TMP, "corpus.json")
    p = subprocess.run([tbtest.PYTHON, os.path.join(SCRIPTS, "record-corpus"), "--backend", "ptrace",
                        "--tightbox", tbtest.TIGHTBOX, "-o", rec], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("record-corpus failed (exit %d): %s %s" % (p.returncode, p.stdout[-1500:], p.stderr[-1500:]))
    p = tbtest.tightbox("generate", "--runtime", "runc", "-q", "-o", prof, rec)
    if p.returncode != 0:
        raise RuntimeError("tightbox generate --runtime runc failed: %s" % p.stderr.decode()[-1500:])
    p = tbtest.tightbox("export", "--format", "oci", "--profile-dir", prof, "--no-apparmor", "--", "/bin/true")
    if p.returncode != 0:
        raise RuntimeError("tightbox export --format oci failed: %s" % p.stderr.decode()[-1500:])
    CONFIG = json.loads(p.stdout)


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


_seq = [0]


def runc(argv, volumes=(), timeout=120):
    """Runs ARGV with the exported config (args replaced); always deletes the container."""
    _seq[0] += 1
    name = "tb-test-oci-%d-%d" % (os.getpid(), _seq[0])
    cfg = json.loads(json.dumps(CONFIG))
    cfg["process"]["args"] = list(argv)
    cfg["process"]["terminal"] = False
    for src, dst in volumes:
        cfg["mounts"].append({"destination": dst, "type": "bind", "source": src, "options": ["bind", "ro"]})
    with open(os.path.join(BUNDLE, "config.json"), "w") as f:
        json.dump(cfg, f)
    try:
        return subprocess.run(["runc", "run", "--bundle", BUNDLE, name], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    finally:
        subprocess.run(["runc", "delete", "-f", name], capture_output=True)


def py(code, **kw):
    return runc(["/usr/bin/python3", "-c", code], **kw)


def errno_of(code):
    """Runs CODE; returns None when it succeeded, else the errno of the OSError it raised."""
    p = py("import json\ntry:\n" + "".join("    %s\n" % l for l in code.splitlines()) +
           "    r = None\nexcept OSError as e:\n    r = e.errno\nprint(json.dumps(r))\n")
    if p.returncode != 0:
        raise AssertionError("rc=%d %s" % (p.returncode, p.stderr[-1500:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


class TestExportedOciUnderRunc(unittest.TestCase):
    def test_config_carries_the_seed_limits(self):
        self.assertTrue(CONFIG["root"]["readonly"])
        self.assertTrue(CONFIG["process"]["noNewPrivileges"])
        self.assertIn("seccomp", CONFIG["linux"])

    def test_workloads(self):
        failed = []
        for s in sorted(glob.glob(os.path.join(WORKLOADS, "*.py"))):
            # The base rootfs has no /sandbox and runc cannot create it on a read-only root: use /opt.
            p = runc(["/usr/bin/python3", "/opt/script.py"], volumes=[(s, "/opt/script.py")], timeout=300)
            if p.returncode != 0 or not p.stdout.startswith("OK"):
                failed.append("%s: rc=%d %s %s" % (os.path.basename(s), p.returncode, p.stdout[-200:],
                                                   p.stderr.strip()[-600:]))
        self.assertEqual(failed, [])

    def test_identity_caps_seccomp_rlimits(self):
        p = py("import os, resource\n"
               "st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
               "print(os.getuid(), os.getgid(), st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(),"
               " st['Seccomp'].strip(), resource.getrlimit(resource.RLIMIT_NOFILE),"
               " resource.getrlimit(resource.RLIMIT_NPROC),"
               " sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]))")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(),
                         "65534 65534 0000000000000000 0000000000000000 1 2 (64, 64) (32, 32) ['lo']")

    def test_read_only_root_and_noexec_tmp(self):
        self.assertIn(errno_of("open('/etc/pwned', 'w').write('x')"), (errno.EROFS, errno.EACCES))
        self.assertIsNone(errno_of("open('/tmp/ok', 'w').write('x')"))
        self.assertEqual(errno_of("import shutil, os\nshutil.copy('/bin/true', '/tmp/t')\nos.chmod('/tmp/t', 0o755)\n"
                                  "os.execv('/tmp/t', ['/tmp/t'])"), errno.EACCES)

    def test_fork_bomb_contained(self):
        p = py("import os; [os.fork() for _ in range(1000)]")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("BlockingIOError", p.stderr)

    def test_memory_limit_kills(self):
        p = py("b = bytearray(400 << 20)\nprint('survived')")
        self.assertEqual(p.returncode, 137, p.stderr[-500:])
        self.assertNotIn("survived", p.stdout)


if __name__ == "__main__":
    tbtest.main()
