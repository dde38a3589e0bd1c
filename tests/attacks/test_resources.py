"""Attack suite, part 3: resource exhaustion and processes that try to outlive the run.

Host-side evidence for "nothing left": no host process carries the attack's marker name, and no
cgroup named after the tightbox process (run-<pid>-N) remains. Cleanup is awaited by polling the
kernel (bounded), never asserted as a duration.
"""
import os
import resource
import signal
import unittest

import tbtest
import attacklib as al


class Base(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()

    def assert_clean(self, run, marker=None):
        left = al.wait_until(lambda: not al.cgroups_of(run.pid), limit=10) or al.cgroups_of(run.pid)
        self.assertEqual(al.cgroups_of(run.pid), [], "cgroups left: %r" % left)
        if marker:
            al.wait_until(lambda: not al.comm_survivors(marker), limit=10)
            self.assertEqual(al.comm_survivors(marker), [], "processes survived")


class TestForkBomb(Base):
    # The marker is an argument: every forked child carries it in its command line.
    CODE = ("import os,errno\nn=0\nwhile True:\n"
            " try:\n  pid=os.fork()\n except OSError as e:\n"
            "  print(errno.errorcode[e.errno], n); break\n if pid==0:\n  os.pause(); os._exit(0)\n n+=1")

    def test_fork_bomb_rlimit_nproc(self):
        """Default: RLIMIT_NPROC 32 (per uid) trips before pids.max 64."""
        marker = "tbfork" + os.urandom(3).hex()
        r = al.run("--", tbtest.PYTHON, "-c", self.CODE, marker)
        self.assertEqual(r.res["exit_code"], 0, r.res)
        name, n = r.res["stdout"].split()
        self.assertEqual(name, "EAGAIN")
        self.assertLess(int(n), 32)
        self.assertFalse(r.res["timed_out"])
        self.assert_clean(r, marker)

    def test_fork_bomb_pids_cgroup(self):
        """With nproc lifted, the pids cgroup (64) stops it: the cgroup layer on its own."""
        marker = "tbfork" + os.urandom(3).hex()
        r = al.run("--ulimit", "nproc=4096:4096", "--", tbtest.PYTHON, "-c", self.CODE, marker)
        name, n = r.res["stdout"].split()
        self.assertEqual(name, "EAGAIN", r.res)
        self.assertGreaterEqual(int(n), 32)  # past the rlimit: it was the cgroup
        self.assertLess(int(n), 64)
        self.assert_clean(r, marker)


class TestMemoryBomb(Base):
    def test_memory_bomb_oom_killed(self):
        code = "a=[]\nwhile True: a.append(b'\\x01' * (16 << 20))"
        r = al.run("--", tbtest.PYTHON, "-c", code)
        if r.res["oom_killed"]:
            self.assertEqual(r.res["signal"], signal.SIGKILL, r.res)
            self.assertEqual(r.rc, 137)
        else:
            self.assertIn("MemoryError", r.res["stderr"], r.res)
        self.assertFalse(r.res["timed_out"])
        self.assert_clean(r)


class TestTimeout(Base):
    def check_timeout(self, argv, marker=None):
        r = al.run("--timeout", "1.5", "--", *argv)
        self.assertTrue(r.res["timed_out"], r.res)
        self.assertEqual(r.rc, 124)
        self.assertEqual(r.res["signal"], signal.SIGKILL)
        self.assert_clean(r, marker)
        return r

    def test_cpu_spin(self):
        marker = "tbspin" + os.urandom(3).hex()
        self.check_timeout([tbtest.PYTHON, "-c", "while True: pass", marker], marker)

    def test_sleep(self):
        self.check_timeout(["/bin/sleep", "30"])

    def test_cpu_quota(self):
        """--cpus 0.5: a spinner gets about half a CPU (cpu_ms well below wall_ms)."""
        r = al.run("--timeout", "2", "--", tbtest.PYTHON, "-c", "while True: pass")
        self.assertTrue(r.res["timed_out"])
        self.assertLess(r.res["cpu_ms"], 0.75 * r.res["wall_ms"], r.res)


class TestOrphans(Base):
    def setUp(self):
        super().setUp()
        al.need_probe(self, "attack-orphans")

    def test_double_fork_setsid_sigstop_gone_after_exit(self):
        marker = "tborph" + os.urandom(3).hex()
        r = al.run(*al.probe_volume(), "--", "/probes/attack-orphans", marker)
        self.assertEqual(r.res["stdout"], "spawned 4\n", r.res)
        self.assertEqual(r.res["exit_code"], 0)
        self.assert_clean(r, marker)

    def test_orphans_gone_after_timeout(self):
        marker = "tborph" + os.urandom(3).hex()
        r = al.run("--timeout", "1", *al.probe_volume(), "--", "/probes/attack-orphans", marker, "wait")
        self.assertTrue(r.res["timed_out"], r.res)
        self.assertEqual(r.rc, 124)
        self.assert_clean(r, marker)


class TestOutputFlood(Base):
    def test_one_gib_flood(self):
        """1 GiB on stdout: kept at the 10000-byte limit, counted in full; tightbox's own peak RSS
        stays small. VmHWM is sampled from /proc/<tightbox>/status until the process is a zombie
        (exec gave it a fresh mm, so this is tightbox's own peak, not Python's before exec nor the
        child's; wait4's ru_maxrss would include the pre-exec Python fork)."""
        p = al.start("--", "/usr/bin/head", "-c", str(1 << 30), "/dev/zero")
        hwm = 0
        # Sampled while it runs too (VmHWM only grows).
        import time
        while True:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    st = f.read()
            except OSError:
                break
            if "VmHWM:" not in st:  # a zombie: done
                break
            hwm = max(hwm, int(st.split("VmHWM:")[1].split()[0]))
            time.sleep(0.02)
        r = al.finish(p)
        self.assertEqual(r.res["exit_code"], 0, r.res)
        self.assertEqual(r.res["stdout_bytes"], 1 << 30)
        self.assertTrue(r.res["stdout_truncated"])
        self.assertEqual(r.res["stdout_omitted"], (1 << 30) - 10000)  # head + tail kept
        print("tightbox ru_maxrss %d KiB, sampled VmHWM %d KiB" % (r.rusage.ru_maxrss, hwm))
        self.assertGreater(hwm, 0)
        self.assertLess(hwm, 16 * 1024)
        self.assert_clean(r)


if __name__ == "__main__":
    tbtest.main()
