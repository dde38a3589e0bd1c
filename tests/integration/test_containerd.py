"""tightbox's profiles under containerd, the runtime under Kubernetes: Debian's containerd 1.6 with
`ctr run --seccomp --seccomp-profile`, a private daemon (tests/lib/tbengines.py: its own root, state
folder and socket, the CRI plugin off; stopped by pid and its folder removed at the end).

The container runs from the base image's rootfs (scripts/build-image --engine none: the same
debootstrap tarball docker and podman import) with what ctr can express of the seed's line:
read-only root, noexec 50m tmpfs on /tmp, 256 MiB memory, 0.5 CPU, every capability dropped,
no_new_privs (ctr's default), a network namespace with only lo. ctr has no flags for the user,
the pids limit or rlimits (under Kubernetes the kubelet sets those through the CRI), so the
workloads run as uid 0 without capabilities.

- The corpus runs under the profile generated from a fresh recording (--runtime tightbox,runc)
  and under the shipped profiles/default.json.
- A profile generated for `tightbox run` only fails before the workload starts (runc's own calls
  after loading the filter), which is why `tightbox export` refuses it.
"""
import os
import subprocess
import tempfile
import unittest

import tbengines
import tbtest

SHIPPED = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
# What the OCI default spec of ctr grants; --cap-drop takes names, not ALL.
CAPS = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
        "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]

C = None
TMP = None
ROOTFS = None
GEN_DIR = None
_seq = [0]


def setUpModule():
    global C, TMP, ROOTFS, GEN_DIR
    C = tbengines.started(tbengines.Containerd)
    try:
        tar = tbengines.build_image("base", "none")
        TMP = tempfile.mkdtemp(prefix="tb-test-containerd-", dir="/var/tmp")
        ROOTFS = os.path.join(TMP, "rootfs")
        os.makedirs(os.path.join(ROOTFS))
        subprocess.run(["tar", "-C", ROOTFS, "-xf", tar], check=True)
        GEN_DIR = os.path.join(TMP, "gen")
        os.makedirs(GEN_DIR)
        tbengines.record_engine_profile(GEN_DIR)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    tbengines.stop_and_remove(C, TMP)


def ctr_run(profile, argv, script=None, timeout=180):
    _seq[0] += 1
    cid = "tb-%d-%d" % (os.getpid(), _seq[0])
    args = ["run", "--rm", "--rootfs", "--read-only", "--seccomp", "--seccomp-profile", profile,
            "--memory-limit", str(256 << 20), "--cpus", "0.5",
            "--mount", "type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:noexec:size=50m",
            "--cgroup", "/%s/%s" % (C.cgroup_parent, cid)]
    for cap in CAPS:
        args += ["--cap-drop", "CAP_" + cap]
    if script:
        args += ["--mount", "type=bind,src=%s,dst=/sandbox/script.py,options=rbind:ro" % script, "--cwd", "/sandbox"]
    try:
        return C.ctr(*args, ROOTFS, cid, *argv, timeout=timeout)
    finally:
        C.ctr("containers", "rm", cid)


class TestContainerd(unittest.TestCase):
    def run_corpus(self, profile):
        failed = tbengines.corpus_failures(self, lambda s: ctr_run(
            profile, ["/usr/bin/python3", "/sandbox/script.py"], script=s))
        self.assertEqual(failed, [], "workloads failed under containerd with %s" % profile)

    def test_generated_profile_runs_the_corpus(self):
        self.run_corpus(os.path.join(GEN_DIR, "seccomp.json"))

    def test_shipped_default_runs_the_corpus(self):
        self.run_corpus(SHIPPED)

    def test_limits_hold(self):
        p = ctr_run(os.path.join(GEN_DIR, "seccomp.json"), [
            "/usr/bin/python3", "-c",
            "import os, errno\nst = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
            "try:\n    open('/etc/pwned', 'w'); w = 'written'\nexcept OSError as e:\n    w = errno.errorcode[e.errno]\n"
            "print(st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(), st['Seccomp'].strip(),"
            " sorted(os.listdir('/sys/class/net')), w)"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "0000000000000000 0000000000000000 1 2 ['lo'] EROFS")

    def test_profile_without_runc_prelude_fails_before_the_workload(self):
        d = os.path.join(TMP, "tightbox-only")
        os.makedirs(d, exist_ok=True)
        p = tbtest.tightbox("generate", "-q", "-o", d, os.path.join(GEN_DIR, "corpus.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        r = ctr_run(os.path.join(d, "seccomp.json"), ["/usr/bin/python3", "-c", "print('started')"])
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("started", r.stdout)
        p = tbtest.tightbox("export", "--format", "kubernetes", "--profile-dir", d, "--", "true")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--runtime tightbox,runc", p.stderr)


if __name__ == "__main__":
    tbtest.main()
