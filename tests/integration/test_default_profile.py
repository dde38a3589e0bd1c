"""What a new user runs first works under the shipped profiles/default.json (issue 9).

Each case runs real Python in `tightbox run` with the shipped default profile, named explicitly, and
checks the program's own output: faulthandler (sigaltstack), pytest on a small test file, numpy and
pandas imports, asyncio.run, tempfile.mkdtemp, time.sleep, os.umask, os.mkfifo, shutil.copy2 (which
copies extended attributes with flistxattr/fsetxattr), and the vDSO-backed clock calls made as
real syscalls. The profile before `generate --scan` failed faulthandler with ENOSYS (exit 1).
"""
import os
import shutil
import tempfile
import unittest

import tbtest

DEFAULT = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
SECCOMP = "seccomp=" + DEFAULT


def run(code, *opts, timeout="60"):
    return tbtest.run_json("--security-opt", SECCOMP, "--timeout", timeout, "-m", "512m",
                           "--memory-swap", "512m", *opts, "--", tbtest.PYTHON, "-c", code,
                           timeout=120)[0]


class DefaultProfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        tbtest.need_file(DEFAULT, "the shipped profile")

    def check(self, res, expect="ok"):
        self.assertIsNone(res["error"], res)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertIn(expect, res["stdout"], res)

    def test_faulthandler(self):
        res, _ = tbtest.run_json("--security-opt", SECCOMP, "--", tbtest.PYTHON, "-X",
                                 "faulthandler", "-c", "print(1)")
        self.check(res, "1")
        self.check(run("import faulthandler; faulthandler.enable(); print('ok')"))

    def test_numpy_pandas(self):
        self.check(run("import numpy; print('ok', numpy.arange(4).sum())"), "ok 6")
        self.check(run("import pandas; print('ok', len(pandas.DataFrame({'a': [1, 2]})))"), "ok 2")

    def test_asyncio_sleep_tempfile(self):
        code = ("import asyncio, tempfile, time, os\n"
                "async def f():\n    await asyncio.sleep(0.01); return 3\n"
                "assert asyncio.run(f()) == 3\n"
                "d = tempfile.mkdtemp(); assert os.path.isdir(d)\n"
                "time.sleep(0.01)\n"
                "print('ok')")
        self.check(run(code))

    def test_umask_mkfifo_copy2(self):
        code = ("import os, shutil, stat, tempfile\n"
                "old = os.umask(0o077); assert os.umask(old) == 0o077\n"
                "d = tempfile.mkdtemp(); p = os.path.join(d, 'fifo')\n"
                "os.mkfifo(p); assert stat.S_ISFIFO(os.stat(p).st_mode)\n"
                "src = os.path.join(d, 'a'); open(src, 'w').write('x' * 1000)\n"
                "shutil.copy2(src, os.path.join(d, 'b'))\n"
                "assert open(os.path.join(d, 'b')).read() == 'x' * 1000\n"
                "print('ok')")
        self.check(run(code))

    def test_interfaces_and_legacy_calls(self):
        # socket.if_nameindex() asks over NETLINK_ROUTE (CPython's test_socket); GNU tar creates
        # files with the legacy creat syscall (shutil's test_tarfile_vs_tar): bench/generality.
        code = ("import socket, ctypes, os, tempfile\n"
                "assert socket.if_nametoindex('lo') >= 1 and socket.if_nameindex()\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "p = os.path.join(tempfile.mkdtemp(), 'c').encode()\n"
                "fd = libc.syscall(85, p, 0o600)\n"
                "assert fd >= 0, ctypes.get_errno()\n"
                "try:\n"
                "    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)\n"
                "    raise SystemExit('NETLINK_AUDIT allowed')\n"
                "except OSError:\n"
                "    pass\n"
                "print('ok')")
        self.check(run(code))

    def test_clock_syscalls_without_vdso(self):
        # The vDSO answers these in user space here; a host without a vDSO clock source sends them
        # to the kernel. Make them as real syscalls, as such a host would.
        code = ("import ctypes, ctypes.util\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "ts = (ctypes.c_long * 2)()\n"
                "nr = {'clock_gettime': 228, 'clock_getres': 229, 'gettimeofday': 96, 'time': 201}\n"
                "for name, n in nr.items():\n"
                "    arg = (0, ts) if name.startswith('clock') else (ts, None) if name == 'gettimeofday' else (None,)\n"
                "    r = libc.syscall(n, *arg)\n"
                "    assert r >= 0, (name, ctypes.get_errno())\n"
                "cpu = ctypes.c_uint()\n"
                "assert libc.syscall(309, ctypes.byref(cpu), None, None) == 0, ctypes.get_errno()\n"
                "print('ok')")
        self.check(run(code))

    def test_pytest_small_file(self):
        try:
            import pytest  # noqa: F401 (the host's python3-pytest is what the sandbox shows)
        except ImportError:
            self.skipTest("python3-pytest is not installed")
        tmp = tempfile.mkdtemp(prefix="tb-default-pytest-")
        try:
            with open(os.path.join(tmp, "test_small.py"), "w") as f:
                f.write("import os, tempfile\n\n"
                        "def test_add():\n    assert 1 + 1 == 2\n\n"
                        "def test_tmp(tmp_path):\n    (tmp_path / 'x').write_text('y')\n"
                        "    assert (tmp_path / 'x').read_text() == 'y'\n")
            os.chmod(tmp, 0o755)
            res, _ = tbtest.run_json("--security-opt", SECCOMP, "--timeout", "60", "-v",
                                     tmp + ":/work:ro", "-w", "/work", "-e",
                                     "PYTHONDONTWRITEBYTECODE=1", "--", tbtest.PYTHON, "-m", "pytest",
                                     "-q", "-p", "no:cacheprovider", "test_small.py", timeout=120)
            self.check(res, "2 passed")
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    tbtest.main()
