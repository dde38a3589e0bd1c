"""Shared helpers for tightbox's script tests (integration, attacks, golden).

Each test file is a unittest module that ends with `tbtest.main()`. A file whose tests were all
skipped exits 77, which CTest reports as SKIPPED (with the reason printed).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("TB_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("TB_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
TIGHTBOX = os.environ.get("TIGHTBOX", os.path.join(BUILD_DIR, "cli", "tightbox"))
PROBES = os.path.join(BUILD_DIR, "probes")
PEERS_DIR = os.environ.get("TB_PEERS_DIR", os.path.join(SOURCE_DIR, "tests", "fixtures", "profiles"))
PYTHON = "/usr/bin/python3"  # Debian's interpreter, the one the sandbox shows


def probe(name):
    """Absolute path of a compiled probe program (tests/probes/NAME.c)."""
    return os.path.join(PROBES, name)


def tightbox(*args, input=None, timeout=120, env=None, check=False):
    """Runs the tightbox binary; returns subprocess.CompletedProcess with bytes output."""
    return subprocess.run([TIGHTBOX, *args], input=input, capture_output=True, timeout=timeout,
                          env=env if env is not None else os.environ.copy(), check=check)


def command_json(command, *args, **kw):
    """`tightbox COMMAND --json ARGS...`; returns (result dict, CompletedProcess)."""
    p = tightbox(command, "--json", *args, **kw)
    try:
        res = json.loads(p.stdout)
    except ValueError as e:
        raise AssertionError("tightbox %s --json printed no JSON (rc=%d): %r / %r" %
                             (command, p.returncode, p.stdout[:500], p.stderr[:2000])) from e
    return res, p


def run_json(*args, **kw):
    """`tightbox run --json ARGS...`; returns (result dict, CompletedProcess)."""
    return command_json("run", *args, **kw)


def run_py(code, *opts, **kw):
    """Runs Python source CODE in the default sandbox; returns the JSON result."""
    res, _ = run_json(*opts, "--", PYTHON, "-c", code, **kw)
    return res


def need_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (cgroups, namespaces as root)")


def need_file(path, why):
    if not os.path.exists(path):
        raise unittest.SkipTest("%s missing: %s" % (path, why))


def need_cmd(cmd):
    if shutil.which(cmd) is None:
        raise unittest.SkipTest("%s is not installed" % cmd)


def tightbox_cgroups():
    """Names of cgroups under any tightbox parent on this machine (should be empty between runs)."""
    found = []
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            ctrls = os.listdir(root)
        except OSError:
            continue
        for c in ctrls:
            parent = os.path.join(root, c, "tightbox") if root == "/sys/fs/cgroup" else os.path.join(root, "tightbox")
            if os.path.isdir(parent):
                for e in os.listdir(parent):
                    if os.path.isdir(os.path.join(parent, e)):
                        found.append(os.path.join(parent, e))
    return sorted(set(found))


def cgroup_parents(name):
    """The directories of cgroup parent NAME (--cgroup-parent) under every mounted hierarchy."""
    found = []
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            ctrls = [os.path.join(root, c) for c in os.listdir(root)] + [root]
        except OSError:
            continue
        for c in ctrls:
            d = os.path.join(c, name)
            if os.path.isdir(d):
                found.append(d)
    return sorted(set(found))


def leftover_cgroups(name):
    """Sandbox cgroups still present under cgroup parent NAME (should be none after a test)."""
    return [os.path.join(d, e) for d in cgroup_parents(name) for e in os.listdir(d)
            if os.path.isdir(os.path.join(d, e))]


class CgroupParentCase(unittest.TestCase):
    """Tests whose sandboxes run under their own cgroup parent (CG_PARENT, given to tightbox as
    --cgroup-parent), so the leak check does not see other suites' sandboxes running meanwhile.
    Once per class: root and the files NEEDS names ((path, why) pairs) needed, else skipped; a
    temporary directory cls.tmp (TMP_PREFIX). After each test: no sandbox cgroup left under the
    parent. At the end: the directory and the parents removed."""
    CG_PARENT = None
    TMP_PREFIX = "tb-test-"
    NEEDS = ()

    @classmethod
    def setUpClass(cls):
        need_root()
        for path, why in cls.NEEDS:
            need_file(path, why)
        cls.tmp = tempfile.TemporaryDirectory(prefix=cls.TMP_PREFIX)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        for d in cgroup_parents(cls.CG_PARENT):
            os.rmdir(d)

    def tearDown(self):
        self.assertEqual(leftover_cgroups(self.CG_PARENT), [], "cgroups left behind")


_podman_seq = [0]


def podman_run(prefix, args, env=None, timeout=120):
    """`podman run --name PREFIX-PID-N ARGS...` with text output; always removes the container."""
    _podman_seq[0] += 1
    name = "%s-%d-%d" % (prefix, os.getpid(), _podman_seq[0])
    try:
        return subprocess.run(["podman", "run", "--name", name, *args], capture_output=True,
                              text=True, env=env, timeout=timeout)
    finally:
        subprocess.run(["podman", "rm", "-f", "--ignore", name], capture_output=True, env=env)


def remove_podman_cgroups():
    """Removes the libpod_parent/conmon cgroups podman (cgroupfs manager) leaves in every v1
    hierarchy after its first run, when empty (rmdir fails harmlessly on one still in use)."""
    for d in sorted(glob.glob("/sys/fs/cgroup/*/libpod_parent/conmon") + glob.glob("/sys/fs/cgroup/*/libpod_parent"),
                    key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


class _Result(unittest.TextTestResult):
    pass


def main():
    """Runs the calling module's tests; exit 0 pass, 1 fail, 77 when every test skipped."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules["__main__"])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    result = runner.run(suite)
    if not result.wasSuccessful():
        sys.exit(1)
    # A skip in setUpModule/setUpClass is one skip of a placeholder, and its tests never run.
    ran = result.testsRun - sum(1 for t, _ in result.skipped if isinstance(t, unittest.TestCase))
    if result.skipped and ran == 0:
        for _, reason in result.skipped[:1]:
            print("SKIPPED: " + reason)
        sys.exit(77)
    sys.exit(0)
