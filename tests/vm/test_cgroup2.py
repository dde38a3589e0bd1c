"""Pure cgroup v2 (no v1 hierarchy, no systemd, no controller enabled at boot): the limits land in
the run's own cgroup, a memory bomb is reported as oom_killed, a fork bomb is contained, and
nothing is left behind."""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import unittest

import tbtest
import vmlib

CG_PARENT = vmlib.cgroup_parent("cg")
PARENT_DIR = "/sys/fs/cgroup/" + CG_PARENT
OPTS = (*vmlib.SLOW, "--cgroup-parent", CG_PARENT)


def setUpModule():
    vmlib.need_guest()


def tearDownModule():
    vmlib.remove_cgroup_parent(CG_PARENT)


def run_dirs():
    try:
        return [os.path.join(PARENT_DIR, e) for e in os.listdir(PARENT_DIR)
                if os.path.isdir(os.path.join(PARENT_DIR, e))]
    except FileNotFoundError:
        return []


def sandbox_processes():
    """Pids of processes of the sandbox uid (nothing else in the guest runs as nobody)."""
    uid = pwd.getpwnam("nobody").pw_uid
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.stat("/proc/" + p).st_uid == uid:
                    found.append(int(p))
            except FileNotFoundError:
                pass
    return found


class CgroupV2(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tb-vm-cg-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        shutil.rmtree(self.dir)
        self.assertEqual(tbtest.leftover_cgroups(CG_PARENT), [], "cgroups left behind")
        self.assertEqual(sandbox_processes(), [], "sandbox processes left behind")

    def wait_for_run_dir(self, proc):
        while proc.poll() is None:
            # The directory appears first, the limits and then the sandbox's processes follow.
            for d in run_dirs():
                if vmlib.read(os.path.join(d, "cgroup.procs")):
                    return d
            time.sleep(0.05)
        self.fail("the sandbox ended before its cgroup was seen: %r" % (proc.communicate(),))

    def test_limits_are_written_to_the_unified_hierarchy(self):
        code = "import os, time\nwhile not os.path.exists('/out/go'):\n    time.sleep(0.05)\nprint('done')"
        proc = subprocess.Popen([tbtest.TIGHTBOX, "run", "--json", *OPTS, "-v", self.dir + ":/out:rw",
                                 "--", tbtest.PYTHON, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            d = self.wait_for_run_dir(proc)
            got = {f: vmlib.read(os.path.join(d, f)) for f in ("memory.max", "memory.swap.max", "pids.max", "cpu.max")}
        finally:
            open(os.path.join(self.dir, "go"), "w").close()
            out, err = proc.communicate(timeout=180)
        self.assertEqual(got, {"memory.max": str(256 << 20), "memory.swap.max": "0", "pids.max": "64",
                               "cpu.max": "50000 100000"})
        self.assertEqual(json.loads(out)["stdout"], "done\n", err)
        self.assertNotIn(b"rlimit", err, "fell back to rlimits on a cgroup2 host")

    def test_memory_bomb_is_oom_killed(self):
        res = tbtest.run_py("chunks = []\nwhile True:\n    chunks.append(b'x' * (16 << 20))", *OPTS)
        self.assertTrue(res["oom_killed"], res)
        self.assertEqual(res["signal"], 9)
        self.assertLess(res["max_rss_kib"], 300 << 10)

    def test_fork_bomb_is_contained(self):
        # Every child forks too, forever; the pids limit holds while it runs and the timeout ends it.
        code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
        proc = subprocess.Popen([tbtest.TIGHTBOX, "run", "--json", "--cgroup-parent", CG_PARENT,
                                 "--timeout", "20", "--ulimit", "nproc=1000", "--", tbtest.PYTHON, "-c", code],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak = 0
        d = self.wait_for_run_dir(proc)
        while proc.poll() is None:
            peak = max(peak, int(vmlib.read(os.path.join(d, "pids.current"), "0") or 0))
            time.sleep(0.1)
        out, err = proc.communicate()
        self.assertLessEqual(peak, 64)
        self.assertGreater(peak, 32, "the bomb never reached the pids limit")
        self.assertTrue(json.loads(out)["timed_out"], err)
        self.assertEqual(proc.returncode, 124)
        self.assertEqual(vmlib.read(os.path.join(d, "pids.current"), "gone"), "gone")


if __name__ == "__main__":
    tbtest.main()
