"""Faults: tightbox killed mid-run, rootfs/volume missing or vanishing, cgroup creation failing,
a full host /tmp, 32 concurrent runs. Every case must end with a correct result or a clear error
(exit 125 naming the problem) and leave no process, cgroup, mount or temp file behind.

Cgroup evidence is per tightbox pid (cgroups are named run-<pid>-N), so other runs on the machine
do not disturb the checks. Faults that need a changed host (a file over the cgroup parent, a full
/tmp) are made inside a private mount namespace (unshare -m) so the host is never touched.
"""
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import tbtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks"))
import attacklib as al  # noqa: E402


def start_plain(*args):
    """`tightbox run ARGS` without --json: the output streams through as it arrives."""
    return subprocess.Popen([tbtest.TIGHTBOX, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish_plain(p):
    out, err = p.communicate(timeout=120)
    return out, err, p.returncode


def mounts():
    """Mount points tightbox or these tests could have created (other tools' mounts, e.g.
    podman's overlays from parallel tests, come and go on their own)."""
    with open("/proc/self/mountinfo") as f:
        pts = [l.split()[4] for l in f]
    # The docker engine tests' daemon (/var/tmp/tb-docker-*: overlays, netns) is another tool.
    return sorted(m for m in pts if (m.startswith(("/sys/fs/cgroup", "/tmp", "/dev/shm", "/proc/sys")) or "tb-" in m)
                  and not m.startswith("/var/tmp/tb-docker-"))


class Base(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()
        self.mounts_before = mounts()

    def tearDown(self):
        self.assertEqual(mounts(), self.mounts_before, "mounts left behind")

    def assert_clean(self, pid, marker=None):
        al.wait_until(lambda: not al.cgroups_of(pid), limit=15)
        self.assertEqual(al.cgroups_of(pid), [])
        if marker:
            al.wait_until(lambda: not al.comm_survivors(marker), limit=15)
            self.assertEqual(al.comm_survivors(marker), [])


class TestKilled(Base):
    def test_sigkill_mid_run(self):
        """tightbox SIGKILLed while its sandbox runs: PDEATHSIG kills the sandbox init (and with it
        the whole pid namespace), the janitor removes the cgroups."""
        al.need_probe(self, "attack-orphans")
        marker = "tbfault" + os.urandom(3).hex()
        p = al.start("--timeout", "60", *al.probe_volume(), "--", "/probes/attack-orphans", marker, "wait")
        try:
            # Running: the init and 4 orphans carry the marker.
            self.assertTrue(al.wait_until(lambda: len(al.comm_survivors(marker)) >= 5, limit=30),
                            "sandbox did not start")
            self.assertTrue(al.cgroups_of(p.pid))
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.assert_clean(p.pid, marker)


class TestRootfsAndVolumes(Base):
    def test_rootfs_missing(self):
        p = tbtest.tightbox("run", "--rootfs", "/nonexistent-tb-rootfs", "--", "/bin/true")
        self.assertEqual(p.returncode, 125)
        self.assertIn(b"/nonexistent-tb-rootfs", p.stderr)

    def test_volume_missing(self):
        res, p = tbtest.run_json("-v", "/nonexistent-tb-vol:/data", "--", "/bin/true")
        self.assertEqual(p.returncode, 125)
        self.assertIn("/nonexistent-tb-vol", res["error"])
        self.assertIn("No such file", res["error"])

    def test_volume_vanishes_during_run(self):
        """The host removes the volume's files and directory while the run reads it: the run sees
        it go and ends normally; nothing is left on the host."""
        d = tempfile.mkdtemp(prefix="tb-fault-vol-")
        open(os.path.join(d, "f"), "w").write("x")
        os.chmod(d, 0o755)
        code = ("import os\nprint(os.listdir('/data'))\nimport sys; sys.stdout.flush()\n"
                "while os.listdir('/data'): pass\nprint(os.listdir('/data'))")
        p = start_plain("--timeout", "30", "-v", d + ":/data", "--", tbtest.PYTHON, "-u", "-c", code)
        first = p.stdout.readline()  # the run has the volume open and listed
        shutil.rmtree(d)
        out, err, rc = finish_plain(p)
        self.assertEqual(first, b"['f']\n", err)
        self.assertEqual(out, b"[]\n", err)
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(d))
        self.assert_clean(p.pid)

    def test_rootfs_vanishes_during_run(self):
        """An image rootfs (dash + libc) deleted on the host mid-run: the running shell sees its
        files go (same filesystem), carries on, and the run ends normally."""
        root = tempfile.mkdtemp(prefix="tb-fault-root-")
        libdir = os.path.join(root, "usr", "lib", "x86_64-linux-gnu")
        os.makedirs(libdir)
        os.makedirs(os.path.join(root, "usr", "bin"))
        os.makedirs(os.path.join(root, "lib64"))
        os.symlink("usr/lib", os.path.join(root, "lib"))
        shutil.copy("/bin/dash", os.path.join(root, "usr", "bin", "sh"))
        shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", libdir)
        shutil.copy("/lib64/ld-linux-x86-64.so.2", os.path.join(root, "lib64"))
        os.chmod(root, 0o755)
        p = start_plain("--timeout", "30", "--rootfs", root, "--", "/usr/bin/sh", "-c",
                        "echo up; while [ -e /usr/bin/sh ]; do :; done; echo gone")
        first = p.stdout.readline()
        shutil.rmtree(root)
        out, err, rc = finish_plain(p)
        self.assertEqual(first, b"up\n", err)
        self.assertEqual(out, b"gone\n", err)
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(root))
        self.assert_clean(p.pid)


class TestCgroupFailure(Base):
    def run_in_private_ns(self, setup, *args):
        """Runs tightbox in a private mount namespace after SETUP (shell) broke the cgroup tree."""
        cmd = "%s && exec %s run --json %s" % (setup, tbtest.TIGHTBOX, " ".join(shlex.quote(a) for a in args))
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", cmd],
                           capture_output=True, timeout=120)
        return json.loads(p.stdout), p

    def test_cgroup_parent_not_a_directory(self):
        tbtest.need_cmd("unshare")
        os.makedirs("/sys/fs/cgroup/pids/tightbox", exist_ok=True)
        res, p = self.run_in_private_ns("mount -t tmpfs -o ro none /sys/fs/cgroup/pids/tightbox",
                                        "--", tbtest.PYTHON, "-c", "a = b'x' * (300 << 20)")
        # Falls back to rlimits, says so, and the memory limit still holds (RLIMIT_AS).
        self.assertIn(b"no cgroup could be created (Read-only file system)", p.stderr)
        self.assertIn("MemoryError", res["stderr"], res)
        self.assertEqual(res["exit_code"], 1)

    def test_cgroup_parent_is_a_control_file(self):
        r = al.run("--cgroup-parent", "cgroup.procs", "--", "/bin/true")
        self.assertEqual(r.res["exit_code"], 0, r.res)
        self.assertIn(b"no cgroup could be created (Not a directory)", r.stderr)
        self.assert_clean(r.pid)


class TestFullDisk(Base):
    def test_host_tmp_full(self):
        """tightbox writes nothing to the host: a full host /tmp changes nothing."""
        tbtest.need_cmd("unshare")
        # The binary and the profiles are held open first: the checkout itself may live in /tmp.
        cmd = ("exec 8<%s 9<%s && mount -t tmpfs -o size=64k none /tmp && "
               "(dd if=/dev/zero of=/tmp/fill bs=4k 2>/dev/null; true) && "
               "TIGHTBOX_PROFILE_DIR=/proc/self/fd/9 exec /proc/self/fd/8 run --json -- %s -c "
               "\"open('/tmp/x','w').write('y'*1000000); print('ok')\""
               % (tbtest.TIGHTBOX, os.path.join(tbtest.SOURCE_DIR, "profiles"), tbtest.PYTHON))
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", cmd],
                           capture_output=True, timeout=120)
        res = json.loads(p.stdout)
        self.assertEqual(res["stdout"], "ok\n", res)


class TestConcurrent(Base):
    def run_32(self, per_run_user):
        results = [None] * 32

        def one(i):
            opts = ["--user", "%d" % (60000 + i)] if per_run_user else []
            p = al.start(*opts, "--timeout", "60", "--",
                         tbtest.PYTHON, "-c", "import os; print(os.getuid(), sum(range(100000)))")
            results[i] = al.finish(p, timeout=300)

        ts = [threading.Thread(target=one, args=(i,)) for i in range(32)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for i, r in enumerate(results):
            uid = 60000 + i if per_run_user else 65534
            self.assertEqual(r.res["stdout"], "%d 4999950000\n" % uid, r.res)
            self.assertEqual(r.rc, 0)
        for r in results:
            self.assert_clean(r.pid)

    def test_32_concurrent_runs_default_user(self):
        """32 runs at once on 2 cores as the default uid 65534. RLIMIT_NPROC counts per user
        namespace's uid: each sandbox has a user namespace of its own, so the default nproc=32
        is per sandbox (before that, ~30 concurrent runs as 65534 hit EAGAIN at exec)."""
        self.run_32(per_run_user=False)

    def test_32_concurrent_runs_distinct_users(self):
        self.run_32(per_run_user=True)


if __name__ == "__main__":
    tbtest.main()
