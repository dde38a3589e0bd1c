"""Two-phase policy (`tightbox run --preload MODULES --two-phase PROFILE2`): start-up and the
preloads run under phase 1, the user's script under phase 1 + phase 2 stacked. Every test runs real
sandboxes and checks the errno (or the exit status) the script sees."""
import ast
import copy
import json
import os
import re
import shutil
import tempfile
import unittest
import zipfile

import tbtest
from tbtest import PYTHON, run_json, tightbox

DEFAULT = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
PROT_EXEC, MAP_ANONYMOUS, PR_SET_SECCOMP = 4, 0x20, 22

# What phase 2 takes away from phase 1 by default (docs/generate.md, generate --phases), applied
# by hand to the shipped default profile: no execve/execveat, no seccomp, no new sockets,
# mmap/mprotect only without PROT_EXEC on anonymous memory, prctl but PR_SET_SECCOMP.
NEVER = {"execve", "execveat", "seccomp", "socket"}
EXEC_MEM = {"mmap", "mprotect", "pkey_mprotect"}


def phase2_of(profile):
    p = copy.deepcopy(profile)
    rules = []
    for r in p["syscalls"]:
        names = [n for n in r["names"] if n not in NEVER and
                 not (n in EXEC_MEM and r["action"] == "SCMP_ACT_ALLOW" and not r.get("args"))]
        if names:
            rules.append(dict(r, names=names))
    masked = lambda i, m, v: {"index": i, "op": "SCMP_CMP_MASKED_EQ", "value": m, "valueTwo": v}
    rules.append({"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [masked(2, PROT_EXEC, 0)]})
    rules.append({"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [masked(3, MAP_ANONYMOUS, 0)]})
    rules.append({"names": ["mprotect", "pkey_mprotect"], "action": "SCMP_ACT_ALLOW",
                  "args": [masked(2, PROT_EXEC, 0)]})
    rules = [dict(r, names=[n for n in r["names"] if n != "prctl"]) if r["action"] == "SCMP_ACT_ALLOW"
             and not r.get("args") else r for r in rules]
    rules.append({"names": ["prctl"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "op": "SCMP_CMP_NE", "value": PR_SET_SECCOMP}]})
    p["syscalls"] = [r for r in rules if r["names"]]
    return p


SHELLCODE = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
MAP_FAILED = ctypes.c_void_p(-1).value
# RWX anonymous memory, then "ret" (0xc3) written and called: classic shellcode.
p = libc.mmap(None, 4096, 7, 0x22, -1, 0)
if p in (None, MAP_FAILED):
    print("mmap-rwx", ctypes.get_errno())
else:
    ctypes.memmove(p, b"\xc3", 1)
    ctypes.CFUNCTYPE(None)(p)()
    print("mmap-rwx ran")
# RW anonymous memory made executable afterwards.
q = libc.mmap(None, 4096, 3, 0x22, -1, 0)
print("mmap-rw", "ok" if q not in (None, MAP_FAILED) else ctypes.get_errno())
r = libc.mprotect(q, 4096, 5)
print("mprotect-x", "ok" if r == 0 else ctypes.get_errno())
"""


# The attacks of tests/attacks (README.md's table) that user code can make, as Python: each line
# is the attack and "ok" or the errno it got. argv: NAME=NR for the syscalls Python has no call
# for. Run with --preload ctypes,socket: nothing it imports is imported in phase 2.
SUITE = r"""
import ctypes, os, socket, sys
from ctypes import c_int, c_long, c_size_t, c_ushort, c_void_p
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype, libc.mmap.restype, libc.shmat.restype = c_long, c_void_p, c_void_p
libc.mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, c_long]
libc.mprotect.argtypes = [c_void_p, c_size_t, c_int]
libc.shmat.argtypes = [c_int, c_void_p, c_int]
FAILED = c_void_p(-1).value
NR = dict(a.split("=") for a in sys.argv[1:])
def out(name, what):
    print(name, what, flush=True)
def attempt(name, fn):
    try:
        r = fn()
        out(name, "ok" if r is None or r is True else r)
    except OSError as e:
        out(name, e.errno)
def c(ok):
    return True if ok else ctypes.get_errno()
def sock(*a, connect=None, send=None):
    s = socket.socket(*a)
    if connect is not None:
        s.settimeout(2); s.connect(connect)
    if send is not None:
        s.sendto(b"x", send)
attempt("connect-host-loopback", lambda: sock(socket.AF_INET, connect=("127.0.0.1", 9)))
attempt("udp-loopback", lambda: sock(socket.AF_INET, socket.SOCK_DGRAM, send=("127.0.0.1", 9)))
attempt("connect-other", lambda: sock(socket.AF_INET, connect=("192.0.2.1", 9)))
attempt("abstract-unix", lambda: sock(socket.AF_UNIX, connect="\0tb-no-such"))
attempt("packet", lambda: sock(17, socket.SOCK_RAW, 0))
attempt("netlink", lambda: sock(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("raw-inet", lambda: sock(socket.AF_INET, socket.SOCK_RAW, 1))
attempt("write-etc", lambda: os.close(os.open("/etc/tb-x", os.O_WRONLY | os.O_CREAT, 0o644)))
attempt("read-shadow", lambda: os.close(os.open("/etc/shadow", os.O_RDONLY)))
attempt("memfd", lambda: c(libc.syscall(c_long(int(NR["memfd_create"])), b"x", 0) >= 0))
attempt("ptrace-traceme", lambda: c(libc.ptrace(0, 0, None, None) == 0))
attempt("unshare-user", lambda: c(libc.unshare(0x10000000) == 0))
attempt("keyctl", lambda: c(libc.syscall(c_long(int(NR["keyctl"])), 0, -3, 0) >= 0))
attempt("personality", lambda: c(libc.personality(0x0400000) != -1))
attempt("kill-all", lambda: c(libc.kill(-1, 0) == 0))
attempt("mmap-rwx", lambda: c(libc.mmap(None, 4096, 7, 0x22, -1, 0) not in (None, FAILED)))
q = libc.mmap(None, 4096, 3, 0x22, -1, 0)
attempt("mprotect-x", lambda: c(libc.mprotect(q, 4096, 5) == 0))
class FProg(ctypes.Structure):
    _fields_ = [("len", c_ushort), ("filter", c_void_p)]
ALLOW = (ctypes.c_ubyte * 8)(0x06, 0, 0, 0, 0, 0, 0xff, 0x7f)
prog = FProg(1, ctypes.addressof(ALLOW))
attempt("own-filter", lambda: c(libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0))
fd = os.open("/tmp/x", os.O_WRONLY | os.O_CREAT, 0o755)
with open("/bin/true", "rb") as f:
    os.write(fd, f.read())
os.close(fd)
def execs():
    for name, argv in (("exec-tmp", ["/tmp/x"]), ("ldso-tmp", ["/lib64/ld-linux-x86-64.so.2", "/tmp/x"]),
                       ("exec-bin", ["/bin/true"])):
        try:
            os.execv(argv[0], argv)
        except OSError as e:
            out(name, e.errno)
try:
    pid = os.fork()
except OSError as e:
    out("fork", e.errno)
    execs()  # in this process: the first exec that works ends it
    sys.exit(0)
if pid == 0:
    execs()
    os._exit(0)
out("fork", "ok")
out("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""
SUITE_PRELOAD = "ctypes,socket"


def write_file(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def setUpModule():
    tbtest.need_root()


class TwoPhase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tb-2phase-")
        os.chmod(cls.dir, 0o755)
        with open(DEFAULT) as f:
            cls.default = json.load(f)
        cls.p2 = cls.write("phase2.json", json.dumps(phase2_of(cls.default)))
        cls.errno = cls.default.get("defaultErrnoRet", 1)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @classmethod
    def write(cls, name, text):
        return write_file(cls.dir, name, text)

    def script(self, name, code, *opts, args=()):
        path = self.write(name, code)
        res, p = run_json(*opts, "-v", self.dir + ":/w", "--", PYTHON, "/w/" + name, *args)
        return res, p

    def test_shellcode_denied_in_phase2_only(self):
        res, _ = self.script("sc.py", SHELLCODE)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertEqual(res["stdout"].split("\n")[:3], ["mmap-rwx ran", "mmap-rw ok", "mprotect-x ok"])
        res, _ = self.script("sc.py", SHELLCODE, "--two-phase", self.p2)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertEqual(res["stdout"].split("\n")[:3],
                         ["mmap-rwx %d" % self.errno, "mmap-rw ok", "mprotect-x %d" % self.errno])

    def test_execve_and_sockets_denied_in_phase2(self):
        code = ("import os, socket\n"
                "try:\n    s = socket.socket(socket.AF_UNIX); print('socket ok', flush=True)\n"
                "except OSError as e:\n    print('socket', e.errno)\n"
                "try:\n    os.execv('/bin/true', ['true'])\n"
                "except OSError as e:\n    print('execve', e.errno)\n")
        res, _ = self.script("ex.py", code, "--two-phase", self.p2)
        self.assertEqual(res["stdout"], "socket %d\nexecve %d\n" % (self.errno, self.errno), res["stderr"])
        res, _ = self.script("ex.py", code)
        self.assertEqual(res["stdout"], "socket ok\n", res["stderr"])
        self.assertEqual(res["exit_code"], 0)

    def test_attacks_phase2_adds_a_seccomp_stop(self):
        # Attacks of tests/attacks that phase 1's seccomp lets through (another layer stops them)
        # and that phase 2 stops in seccomp as well. Each line: attack, then errno or "ok".
        code = r'''
import errno, os, shutil, socket
def attempt(name, fn):
    try:
        fn(); print(name, "ok", flush=True)
    except OSError as e:
        print(name, e.errno, flush=True)
attempt("connect-host-loopback", lambda: socket.create_connection(("127.0.0.1", 9), timeout=2))
attempt("udp-loopback", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9)))
attempt("abstract-unix", lambda: socket.socket(socket.AF_UNIX).connect("\0tb-no-such"))
attempt("raw-inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))
shutil.copy("/bin/true", "/tmp/x"); os.chmod("/tmp/x", 0o755)
pid = os.fork()
if pid == 0:
    for name, argv in (("exec-tmp", ["/tmp/x"]), ("ldso-tmp", ["/lib64/ld-linux-x86-64.so.2", "/tmp/x"])):
        try:
            os.execv(argv[0], argv)
        except OSError as e:
            print(name, e.errno, flush=True)
    os._exit(0)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
'''
        one, _ = self.script("att.py", code)
        two, _ = self.script("att.py", code, "--two-phase", self.p2)
        one = dict(l.split(" ", 1) for l in one["stdout"].splitlines())
        two = dict(l.split(" ", 1) for l in two["stdout"].splitlines())
        E = str(self.errno)
        # Phase 1: the network namespace, capabilities and noexec stop them; ld.so itself runs
        # and fails to map /tmp/x (exit 127).
        self.assertEqual(one, {"connect-host-loopback": "111", "udp-loopback": "ok", "abstract-unix": "111",
                               "raw-inet": "1", "exec-tmp": "13", "child": "127"})
        self.assertEqual(two, {"connect-host-loopback": E, "udp-loopback": E, "abstract-unix": E,
                               "raw-inet": E, "exec-tmp": E, "ldso-tmp": E, "child": "0"})

    def test_numpy_preload(self):
        code = ("import numpy as np, sys\n"
                "a = np.arange(12.0).reshape(3, 4)\n"
                "print(float((a @ a.T).trace()), np.linalg.det(np.eye(3) * 2))\n")
        res, _ = self.script("np.py", code, "--preload", "numpy", "--two-phase", self.p2)
        if "No module named 'numpy'" in res["stderr"]:
            self.skipTest("numpy is not installed for %s" % PYTHON)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertEqual(res["stdout"], "506.0 7.999999999999998\n")

    def test_same_as_plain_python(self):
        code = ("import sys, os\n"
                "print(sys.argv, sys.path[0], __name__, __file__, __spec__, os.getcwd())\n"
                "print('to stderr', file=sys.stderr)\n"
                "import inspect; print(inspect.stack()[0].filename)\n"
                "if sys.argv[1] == 'raise':\n"
                "    def f(): raise KeyError('k')\n"
                "    f()\n"
                "sys.exit(int(sys.argv[1]))\n")
        for args in (["0"], ["3", "x y"], ["raise"]):
            plain, _ = self.script("same.py", code, args=args)
            two, _ = self.script("same.py", code, "--preload", "json,decimal", "--two-phase", self.p2,
                                 args=args)
            for k in ("stdout", "stderr", "exit_code", "signal"):
                self.assertEqual(plain[k], two[k], "%s differs for %r" % (k, args))
        self.assertIn("KeyError: 'k'", two["stderr"])
        self.assertNotIn("<string>", two["stderr"])

    def test_same_as_plain_python_everywhere(self):
        # A script in a directory with spaces given by a relative path, -m with a module and a
        # package, a directory and a zip with __main__.py, PYTHONPATH, SystemExit of each kind,
        # KeyboardInterrupt, a chained exception, a SyntaxError in the file, the user's own
        # excepthook and atexit: stdout, stderr (byte for byte), the exit status and signal as
        # with plain python3. Only sys.flags (isolated) and inspect.stack() (one "<string>"
        # frame below the script) tell them apart; nothing here prints those.
        show = ("import sys, os\n"
                "print('argv', sys.argv, 'path0', sys.path[0], 'file', __file__)\n"
                "print('name', __name__, __spec__, __cached__, __package__, __doc__)\n"
                "print('loader', type(__loader__).__name__, getattr(__loader__, 'name', None),\n"
                "      getattr(__loader__, 'path', None))\n"
                "print('main', sys.modules['__main__'].__dict__ is globals(), list(globals()))\n"
                "print('path', sys.path, os.getcwd())\n"
                "print('to stderr', file=sys.stderr)\n"
                "arg = sys.argv[1] if len(sys.argv) > 1 else '0'\n"
                "def f(): raise ValueError('inner')\n"
                "if arg == 'raise':\n"
                "    try:\n        f()\n"
                "    except ValueError as e:\n        raise KeyError('k') from e\n"
                "if arg == 'kbd': raise KeyboardInterrupt\n"
                "if arg == 'str': sys.exit('bye')\n"
                "if arg == 'none': raise SystemExit\n"
                "sys.exit(int(arg))\n")
        top = os.path.join(self.dir, "dir with spaces")
        for sub in ("pkg", "zipd"):
            os.makedirs(os.path.join(top, sub), exist_ok=True)
        for name, text in (("show.py", show), ("mod.py", show), ("pkg/__init__.py", ""),
                           ("pkg/__main__.py", show), ("zipd/__main__.py", show),
                           ("bad.py", "print(1)\nx = (\n"),
                           ("hook.py", "import atexit, sys, traceback\n"
                                       "sys.excepthook = lambda t, v, tb: print('hook', t.__name__,"
                                       " [f.name for f in traceback.extract_tb(tb)])\n"
                                       "atexit.register(lambda: print('atexit ran'))\n"
                                       "def g(): 1 / 0\ng()\n")):
            write_file(top, name, text)
        with open(os.path.join(top, "app.zip"), "wb") as f:  # a zipapp: a #! line, then the zip
            f.write(b"#!/usr/bin/python3\n")
            with zipfile.ZipFile(f, "w") as z:
                z.writestr("__main__.py", show)
        os.chmod(os.path.join(top, "app.zip"), 0o644)
        for d in (top, os.path.join(top, "pkg"), os.path.join(top, "zipd")):
            os.chmod(d, 0o777)  # CPython may write __pycache__ there, both ways alike
        wd = ["-w", "/w/dir with spaces"]
        cases = [(wd, ["show.py", a]) for a in ("0", "3", "raise", "kbd", "str", "none")]
        cases += [(wd, ["-m", "mod", "raise"]), (wd, ["-m", "pkg", "4"]), (wd, ["-m", "no_such_mod"]),
                  (wd, ["zipd", "5"]), (wd, ["app.zip", "raise"]), (wd, ["bad.py"]), (wd, ["hook.py"]),
                  (wd, ["nosuch.py"]), (["-w", "/w"], ["dir with spaces/show.py", "raise"]),
                  (wd + ["-e", "PYTHONPATH=/w:rel:"], ["show.py"])]
        addr = re.compile(r"0x[0-9a-f]+")  # object addresses in reprs
        seen = {}
        for opts, argv in cases:
            plain, _ = run_json("-v", self.dir + ":/w", *opts, "--", PYTHON, *argv)
            two, _ = run_json("-v", self.dir + ":/w", *opts, "--preload", "json", "--two-phase",
                              self.p2, "--", PYTHON, *argv)
            what = "%s %r" % (" ".join(opts), argv)
            self.assertEqual(addr.sub("", plain["stdout"]), addr.sub("", two["stdout"]), what)
            for k in ("stderr", "exit_code", "signal"):
                self.assertEqual(plain[k], two[k], "%s differs for %s" % (k, what))
            seen[argv[-1] if argv[0] != "-m" else argv[1]] = two
        # What those runs showed, as python3 documents it.
        self.assertIn("argv ['dir with spaces/show.py', 'raise'] path0 /w/dir with spaces file "
                      "/w/dir with spaces/show.py", seen["raise"]["stdout"])
        self.assertIn("argv ['/w/dir with spaces/mod.py', 'raise'] path0 /w/dir with spaces",
                      seen["mod"]["stdout"])
        self.assertIn("'/w', '/w/dir with spaces/rel', '/w/dir with spaces', '/usr/lib", seen["show.py"]["stdout"])
        self.assertEqual([(seen[a]["exit_code"], seen[a]["signal"]) for a in ("3", "str", "none", "kbd", "pkg", "5")],
                         [(3, None), (1, None), (0, None), (130, None), (4, None), (5, None)])
        self.assertTrue(seen["raise"]["stderr"].endswith(
            'File "/w/dir with spaces/show.py", line 15, in <module>\n'
            '    raise KeyError(\'k\') from e\nKeyError: \'k\'\n'), seen["raise"]["stderr"])
        self.assertIn("SyntaxError: '(' was never closed", seen["bad.py"]["stderr"])
        self.assertEqual(seen["hook.py"]["stdout"], "hook ZeroDivisionError ['<module>', 'g']\natexit ran\n")
        self.assertEqual(seen["no_such_mod"]["stderr"], "%s: No module named no_such_mod\n" % PYTHON)
        # Interpreter options other than -m are refused up front, naming what is supported.
        for argv in (["-u", "x.py"], ["-m"], ["-"]):
            p = tightbox("run", "--two-phase", self.p2, "--", PYTHON, *argv)
            self.assertEqual((p.returncode, p.stdout), (125, b""), argv)
            self.assertIn(b"python3 -m", p.stderr)

    def test_missing_script_as_plain_python(self):
        plain, _ = run_json("--", PYTHON, "/no/such.py")
        two, _ = run_json("--two-phase", self.p2, "--", PYTHON, "/no/such.py")
        self.assertEqual((plain["stderr"], plain["exit_code"]), (two["stderr"], two["exit_code"]))
        self.assertEqual(two["exit_code"], 2)

    def test_script_flag(self):
        path = self.write("s.py", "import sys; print(sys.argv, __name__); sys.exit(4)\n")
        res, _ = run_json("--script", path, "--two-phase", self.p2)
        self.assertEqual(res["stdout"], "['/sandbox/script.py'] __main__\n", res["stderr"])
        self.assertEqual(res["exit_code"], 4)

    def test_cannot_skip_or_reach_the_program(self):
        # The fd is closed, the user's json.py is not what the preload imported, and stacking
        # another filter (or undoing one) is not possible from user code.
        self.write("json.py", "import os\nos.write(1, b'USER CODE RAN IN PHASE 1\\n')\n")
        code = ("import os, sys, ctypes\n"
                "try:\n    os.fstat(5); print('fd 5 open')\n"
                "except OSError as e:\n    print('fd5', e.errno)\n"
                "print(sorted(os.listdir('/proc/self/fd')))\n"
                "import json; print(json.__file__.startswith('/usr/lib/python3'))\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "print('prctl', libc.prctl(22, 0, 0, 0, 0), ctypes.get_errno())\n"
                "import mmap\n"
                "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n")
        res, _ = self.script("skip.py", code, "--preload", "json", "--two-phase", self.p2)
        out = res["stdout"].split("\n")
        self.assertNotIn("USER CODE RAN IN PHASE 1", res["stdout"])
        self.assertEqual(out[0], "fd5 9")  # EBADF
        self.assertEqual(out[1], "['0', '1', '2', '3']")  # 3: listdir's own
        self.assertEqual(out[2], "True")
        # prctl(PR_SET_SECCOMP, SECCOMP_MODE_DISABLED) does not exist: filters cannot be removed.
        self.assertTrue(out[3].startswith("prctl -1 "), out[3])
        self.assertIn("Error: [Errno %d]" % self.errno, res["stderr"])
        self.assertEqual(res["exit_code"], 1)
        # Nothing of the bootstrap is left to call again from user code.
        res, _ = self.script("again.py", "import gc\n"
                             "print([o for o in gc.get_objects() if getattr(o, '__name__', '') == "
                             "'_tightbox_two_phase'])\n", "--two-phase", self.p2)
        self.assertEqual(res["stdout"], "[]\n", res["stderr"])

    def test_fails_closed(self):
        marker = "import os; os.write(1, b'RAN\\n')\n"
        # A preload that cannot be imported: nothing of the script runs, exit 125.
        res, _ = self.script("m.py", marker, "--preload", "no_such_module_x", "--two-phase", self.p2)
        self.assertEqual((res["stdout"], res["exit_code"]), ("", 125), res["stderr"])
        self.assertIn("--preload no_such_module_x failed", res["stderr"])
        # A phase-1 profile that refuses seccomp() by an argument rule: the stack fails.
        p1 = copy.deepcopy(self.default)
        p1["syscalls"].append({"names": ["seccomp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                               "args": [{"index": 2, "op": "SCMP_CMP_NE", "value": 0}]})
        p1 = self.write("p1.json", json.dumps(p1))
        res, p = self.script("m.py", marker, "--security-opt", "seccomp=" + p1, "--two-phase", self.p2)
        self.assertNotIn("RAN", res["stdout"] if res else "")
        self.assertEqual(p.returncode, 125, p.stderr)
        # A malformed phase-2 profile, and a command that is not `python3 FILE`: refused up front.
        bad = self.write("bad.json", "{\"defaultAction\": ")
        p = tightbox("run", "--two-phase", bad, "--", PYTHON, "-c", "print(1)")
        self.assertEqual((p.returncode, p.stdout), (125, b""))
        p = tightbox("run", "--two-phase", self.p2, "--", PYTHON, "-c", "print(1)")
        self.assertEqual((p.returncode, p.stdout), (125, b""))
        self.assertIn(b"--two-phase runs a Python script", p.stderr)
        p = tightbox("run", "--preload", "json", "--", PYTHON, "-c", "print(1)")
        self.assertEqual((p.returncode, p.stdout), (125, b""))
        p = tightbox("run", "--preload", "os;print(1)", "--two-phase", self.p2, "--", PYTHON, "/w/m.py")
        self.assertEqual((p.returncode, p.stdout), (125, b""))
        self.assertIn(b"comma-separated module names", p.stderr)
        # record --phase: the ptrace backend only, and never with a real phase 2.
        for opts in (["--backend", "bpf"], ["--two-phase", self.p2]):
            p = tightbox("record", "--phase", "user", *opts, "-o", os.path.join(self.dir, "r.json"),
                         "--", PYTHON, "/w/m.py")
            self.assertEqual(p.returncode, 125, (opts, p.stderr))
            self.assertFalse(os.path.exists(os.path.join(self.dir, "r.json")))


# Each default of generate --phases, tried from user code. Phase 1 is the shipped default plus
# SysV shared memory (which the default refuses), so that phase 1 alone lets every attempt through
# but seccomp(2), which only the bootstrap's stacking rule allows. argv: SECCOMP_NR EXECVEAT_NR.
ATTEMPTS = r"""
import ctypes, os, socket, sys
from ctypes import c_int, c_long, c_size_t, c_ushort, c_void_p
SECCOMP, EXECVEAT = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = c_long
libc.mmap.restype, libc.shmat.restype = c_void_p, c_void_p
libc.mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, c_long]
libc.mprotect.argtypes = [c_void_p, c_size_t, c_int]
libc.shmat.argtypes = [c_int, c_void_p, c_int]
FAILED = c_void_p(-1).value
def show(name, ok):
    print(name, "ok" if ok else ctypes.get_errno(), flush=True)
class FProg(ctypes.Structure):
    _fields_ = [("len", c_ushort), ("filter", c_void_p)]
ALLOW = (ctypes.c_ubyte * 8)(0x06, 0, 0, 0, 0, 0, 0xff, 0x7f)  # BPF_RET|BPF_K SECCOMP_RET_ALLOW
prog = FProg(1, ctypes.addressof(ALLOW))
show("mmap-rwx", libc.mmap(None, 4096, 7, 0x22, -1, 0) not in (None, FAILED))
q = libc.mmap(None, 4096, 3, 0x22, -1, 0)
show("mmap-rw", q not in (None, FAILED))
show("mprotect-x", libc.mprotect(q, 4096, 5) == 0)
shm = libc.shmget(0, 4096, 0o700)
show("shmat", libc.shmat(shm, None, 0) not in (None, FAILED))
show("shmat-exec", libc.shmat(shm, None, 0o100000) not in (None, FAILED))
libc.shmctl(shm, 0, None)
show("prctl-name", libc.prctl(15, b"attempts", 0, 0, 0) == 0)
show("prctl-seccomp", libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0)
show("seccomp", libc.syscall(c_long(SECCOMP), c_long(1), c_long(0), ctypes.byref(prog)) == 0)
for fam, name in ((socket.AF_UNIX, "socket-unix"), (socket.AF_INET, "socket-inet")):
    try:
        socket.socket(fam).close(); print(name, "ok", flush=True)
    except OSError as e:
        print(name, e.errno, flush=True)
fd = os.open("/bin/true", os.O_RDONLY)
for name, run in (("execve", lambda: os.execv("/bin/true", ["true"])),
                  ("execveat", lambda: libc.syscall(c_long(EXECVEAT), c_long(fd), b"",
                                                    (ctypes.c_char_p * 2)(b"true", None),
                                                    (ctypes.c_char_p * 1)(None), c_long(0x1000)))):
    pid = os.fork()
    if pid == 0:
        try:
            run()
        except OSError as e:
            os._exit(e.errno)
        os._exit(ctypes.get_errno() or 99)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(name, "ok" if code == 0 else code, flush=True)
"""

# A user phase that needs the harmless forms only: prctl(PR_SET_NAME), an AF_UNIX socket, RW
# anonymous memory, SysV shared memory without SHM_EXEC, fork (ATTEMPTS execs in children).
FORK = "import os\npid = os.fork()\npid or os._exit(0)\nos.waitpid(pid, 0)\n"
MODEST = FORK + r"""
import ctypes, socket
from ctypes import c_int, c_long, c_size_t, c_void_p
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype, libc.shmat.restype = c_void_p, c_void_p
libc.mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, c_long]
libc.mprotect.argtypes = [c_void_p, c_size_t, c_int]
libc.shmat.argtypes, libc.shmdt.argtypes = [c_int, c_void_p, c_int], [c_void_p]
assert libc.prctl(15, b"modest", 0, 0, 0) == 0
socket.socket(socket.AF_UNIX).close()
p = libc.mmap(None, 4096, 3, 0x22, -1, 0)
assert libc.mprotect(p, 4096, 1) == 0
shm = libc.shmget(0, 4096, 0o700)
assert libc.shmdt(libc.shmat(shm, None, 0)) == 0
libc.shmctl(shm, 0, None)
print("OK modest")
"""

# A user phase that needs what phase 2 denies by default: execve, its own seccomp filter (both
# ways) and memory made executable (a JIT).
NEEDY = FORK + r"""
import ctypes, subprocess
from ctypes import c_int, c_long, c_size_t, c_ushort, c_void_p
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype, libc.mmap.restype = c_long, c_void_p
libc.mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, c_long]
libc.mprotect.argtypes = [c_void_p, c_size_t, c_int]
class FProg(ctypes.Structure):
    _fields_ = [("len", c_ushort), ("filter", c_void_p)]
ALLOW = (ctypes.c_ubyte * 8)(0x06, 0, 0, 0, 0, 0, 0xff, 0x7f)
prog = FProg(1, ctypes.addressof(ALLOW))
subprocess.run(["/bin/true"], check=True)
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0
assert libc.syscall(c_long(%d), c_long(1), c_long(0), ctypes.byref(prog)) == 0
p = libc.mmap(None, 4096, 3, 0x22, -1, 0)
assert libc.mprotect(p, 4096, 5) == 0
print("OK needy")
"""


def resolve(name):
    import ctypes
    return ctypes.CDLL("libseccomp.so.2").seccomp_syscall_resolve_name(name.encode())


class GeneratedDefaults(unittest.TestCase):
    """What `generate --phases` takes away by default, from profiles it generated from real
    recordings, tried by a real process: under phase 1 alone each attempt gets through, under
    phase 2 it fails with the profile's errno; a user phase that recorded a call keeps it."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tb-2phase-gen-")
        os.chmod(cls.dir, 0o755)
        with open(DEFAULT) as f:
            p1 = json.load(f)
        p1["syscalls"].append({"names": ["shmget", "shmat", "shmdt", "shmctl"],
                               "action": "SCMP_ACT_ALLOW"})
        cls.p1 = write_file(cls.dir, "p1.json", json.dumps(p1))
        cls.attempts = write_file(cls.dir, "attempts.py", ATTEMPTS)
        cls.nrs = [str(resolve("seccomp")), str(resolve("execveat"))]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def phase2_from(self, name, code, *gen_opts):
        script = write_file(self.dir, name + ".py", code)
        out = os.path.join(self.dir, name)
        os.mkdir(out)
        recs = []
        for phase in ("all", "user"):
            rec = os.path.join(out, phase + ".json")
            p = tightbox("record", "--phase", phase, "--preload", "ctypes,subprocess", "-o", rec,
                         "--script", script, timeout=300)
            self.assertEqual((p.returncode, p.stdout), (0, b"OK %s\n" % name.encode()), p.stderr)
            recs.append(rec)
        p = tightbox("generate", "--phases", *gen_opts, "-o", out, *recs)
        self.assertEqual(p.returncode, 0, p.stderr)
        return os.path.join(out, "seccomp-phase2.json")

    def attempt(self, *opts):
        res, _ = run_json("--security-opt", "seccomp=" + self.p1, "--preload", "ctypes,socket", *opts,
                          "-v", self.dir + ":/w:ro", "--", PYTHON, "/w/attempts.py", *self.nrs)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        return dict(l.split(" ", 1) for l in res["stdout"].splitlines())

    def test_defaults_deny_what_phase1_allows(self):
        p2 = self.phase2_from("modest", MODEST)
        with open(p2) as f:
            doc = json.load(f)
        E = str(doc["defaultErrnoRet"])
        one = self.attempt("--two-phase", self.write_allow_all())
        # Phase 1 alone (phase 2 allowing everything): all through but seccomp(2).
        self.assertEqual(one, {"mmap-rwx": "ok", "mmap-rw": "ok", "mprotect-x": "ok", "shmat": "ok",
                               "shmat-exec": "ok", "prctl-name": "ok", "prctl-seccomp": "ok",
                               "seccomp": "ok", "socket-unix": "ok", "socket-inet": "ok",
                               "execve": "ok", "execveat": "ok"})
        two = self.attempt("--two-phase", p2)
        self.assertEqual(two, {"mmap-rwx": E, "mmap-rw": "ok", "mprotect-x": E, "shmat": "ok",
                               "shmat-exec": E, "prctl-name": "ok", "prctl-seccomp": E,
                               "seccomp": E, "socket-unix": "ok", "socket-inet": E,
                               "execve": E, "execveat": E})

    def write_allow_all(self):
        """A phase 2 that allows everything: user code then runs under phase 1 only, with its
        stacking rule (seccomp(SECCOMP_SET_MODE_FILTER)) added as in every two-phase run."""
        return write_file(self.dir, "allow-all.json", json.dumps(
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}))

    def test_recorded_needs_are_kept(self):
        p2 = self.phase2_from("needy", NEEDY % resolve("seccomp"), "--allow-risky", "seccomp")
        with open(p2) as f:
            doc = json.load(f)
        E = str(doc["defaultErrnoRet"])
        two = self.attempt("--two-phase", p2)
        # Recorded: execve (not execveat), both ways of installing a filter, mprotect adding
        # PROT_EXEC. Not recordable, so still refused: anonymous RWX mmap, SHM_EXEC.
        self.assertEqual({k: two[k] for k in ("execve", "execveat", "prctl-seccomp", "seccomp",
                                              "mprotect-x", "mmap-rwx", "mmap-rw")},
                         {"execve": "ok", "execveat": E, "prctl-seccomp": "ok", "seccomp": "ok",
                          "mprotect-x": "ok", "mmap-rwx": E, "mmap-rw": "ok"})
        # Without --allow-risky seccomp the recorded seccomp(2) stays out (issue 10's rule);
        # prctl(PR_SET_SECCOMP) is not in that risky set and follows the recordings alone.
        p2 = self.phase2_from("needy2", NEEDY.replace("OK needy", "OK needy2") % resolve("seccomp"))
        two = self.attempt("--two-phase", p2)
        self.assertEqual((two["seccomp"], two["prctl-seccomp"]), (E, "ok"))


WORKLOADS = os.path.join(tbtest.SOURCE_DIR, "scripts", "workloads")


def top_imports(path):
    """The modules a workload imports at its top level: what a platform would --preload."""
    with open(path) as f:
        tree = ast.parse(f.read())
    mods = []
    for node in tree.body:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        mods += [n for n in names if n not in mods and n != "__future__"]
    return ",".join(mods)


class Corpus(unittest.TestCase):
    """Every workload of scripts/workloads, recorded with --phase all and --phase user, passes
    under --two-phase with the profiles `generate --phases` makes from those recordings."""

    def test_corpus_under_generated_phases(self):
        names = sorted(f[:-3] for f in os.listdir(WORKLOADS) if f.endswith(".py"))
        with tempfile.TemporaryDirectory(prefix="tb-2phase-corpus-") as tmp:
            recs, preload = [], {}
            for n in names:
                script = os.path.join(WORKLOADS, n + ".py")
                preload[n] = top_imports(script)
                for phase in ("all", "user"):
                    out = os.path.join(tmp, "%s-%s.json" % (n, phase))
                    p = tightbox("record", "--phase", phase, "--preload", preload[n], "--timeout", "120",
                                 "--name", n, "-o", out, "--script", script, timeout=300)
                    self.assertEqual(p.returncode, 0, "%s %s: %s" % (n, phase, p.stderr.decode()[-800:]))
                    self.assertTrue(p.stdout.startswith(b"OK"), (n, phase, p.stdout[:200]))
                    with open(out) as f:
                        rec = json.load(f)
                    self.assertEqual(rec["provenance"]["phase"], phase)
                    # The bootstrap's stack is the boundary: in the whole run, not in the user phase.
                    self.assertEqual("seccomp" in rec["syscalls"]["x86_64"], phase == "all", (n, phase))
                    recs.append(out)
            p = tightbox("generate", "--phases", "-o", tmp, *recs)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            summary = p.stdout.decode()
            print("\n" + "\n".join(l for l in summary.splitlines() if l.endswith("syscalls allowed")))
            with open(os.path.join(tmp, "seccomp-phase2.json")) as f:
                p2 = json.load(f)
            allowed2 = {n for r in p2["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
            self.assertNotIn("seccomp", allowed2)
            # mmap only with argument rules: no anonymous executable memory.
            self.assertFalse([r for r in p2["syscalls"] if "mmap" in r["names"] and not r.get("args")])
            # Per workload: phase 1 vs phase 2 names (the report of docs/generate.md).
            for n in names:
                d = os.path.join(tmp, n)
                os.mkdir(d)
                p = tightbox("generate", "--phases", "-o", d, os.path.join(tmp, n + "-all.json"),
                             os.path.join(tmp, n + "-user.json"))
                self.assertEqual(p.returncode, 0, p.stderr.decode())
                counts = re.findall(r"^(?:x86_64|phase 2 \(.*\)): (\d+) syscalls allowed$", p.stdout.decode(), re.M)
                self.assertEqual(len(counts), 2, p.stdout.decode())
                with open(os.path.join(d, "seccomp-phase2.json")) as f:
                    execve = any("execve" in r["names"] for r in json.load(f)["syscalls"]
                                 if r["action"] == "SCMP_ACT_ALLOW")
                print("%-18s phase 1 %3s  phase 2 %3s%s" % (n, counts[0], counts[1],
                                                           "  (execve kept)" if execve else ""))
            for n in names:
                res, _ = run_json("--security-opt", "seccomp=" + os.path.join(tmp, "seccomp.json"),
                                  "--preload", preload[n], "--two-phase", os.path.join(tmp, "seccomp-phase2.json"),
                                  "--timeout", "120", "--script", os.path.join(WORKLOADS, n + ".py"), timeout=300)
                self.assertEqual(res["exit_code"], 0, "%s: %s" % (n, res["stderr"][-800:]))
                self.assertTrue(res["stdout"].startswith("OK"), (n, res["stdout"][:200]))
            # The attack suite from user code: phase 1 alone (the shipped default), then the
            # default with a phase 2 made from one workload (pandas_work) and from the merged
            # corpus. Printed as the table of docs/generate.md and tests/attacks/README.md.
            os.chmod(tmp, 0o755)
            suite = write_file(tmp, "suite.py", SUITE)
            nrs = ["%s=%d" % (n, resolve(n)) for n in ("memfd_create", "keyctl")]
            cols = {"phase 1": [], "+ pandas_work phase 2": ["--preload", SUITE_PRELOAD + ",pandas",
                                                              "--two-phase", os.path.join(tmp, "pandas_work", "seccomp-phase2.json")],
                    "+ corpus phase 2": ["--preload", SUITE_PRELOAD + "," + ",".join(set(",".join(preload.values()).split(","))),
                                         "--two-phase", os.path.join(tmp, "seccomp-phase2.json")]}
            got = {}
            for col, opts in cols.items():
                res, _ = run_json("-v", tmp + ":" + tmp + ":ro", *opts, "--", PYTHON, suite, *nrs)
                self.assertEqual(res["exit_code"], 0, (col, res["stderr"][-800:]))
                got[col] = dict(l.split(" ", 1) for l in res["stdout"].splitlines())
            print("%-22s %-10s %-22s %s" % ("attack", *cols))
            for k in dict.fromkeys(k for c in cols for k in got[c]):
                print("%-22s %-10s %-22s %s" % (k, *(got[c].get(k, "-") for c in cols)))
            E = str(p2["defaultErrnoRet"])
            # Phase 1 alone: layers other than seccomp stop these (netns, caps, DAC, read-only
            # mounts, noexec); anonymous executable memory and a filter of one's own get through.
            self.assertEqual(got["phase 1"], {
                "connect-host-loopback": "111", "udp-loopback": "ok", "connect-other": "101",
                "abstract-unix": "111", "packet": "1", "netlink": "ok", "raw-inet": "1", "write-etc": "30",
                "read-shadow": "13", "memfd": E, "ptrace-traceme": "1", "unshare-user": "1", "keyctl": "1",
                "personality": "1", "kill-all": "3", "mmap-rwx": "ok", "mprotect-x": "ok",
                "own-filter": "ok", "fork": "ok", "exec-tmp": "13", "child": "127"})
            # pandas_work's user phase makes no socket, fork, kill or exec: its phase 2 refuses
            # them in seccomp as well, with anonymous executable memory and a filter of one's own.
            want = dict(got["phase 1"], **{
                "connect-host-loopback": E, "udp-loopback": E, "connect-other": E,
                "abstract-unix": E, "netlink": "1", "raw-inet": E, "kill-all": E,
                "mmap-rwx": E, "mprotect-x": E, "own-filter": E, "fork": E, "exec-tmp": E,
                "ldso-tmp": E, "exec-bin": E})
            del want["child"]  # no fork: the execs are tried in the process itself
            self.assertEqual(got["+ pandas_work phase 2"], want)
            # The merged corpus keeps sockets, fork, kill and execve (its workloads use them),
            # and still refuses anonymous executable memory and a filter of one's own.
            for k in ("mmap-rwx", "mprotect-x", "own-filter"):
                self.assertEqual(got["+ corpus phase 2"][k], E, k)
            # The shellcode attempt fails under the generated phase 2 as well (the profile's
            # default errno), while file-backed PROT_EXEC mappings (extension modules) work.
            sc = os.path.join(tmp, "sc.py")
            with open(sc, "w") as f:
                f.write(SHELLCODE)
            os.chmod(sc, 0o644)
            os.chmod(tmp, 0o755)
            res, _ = run_json("--security-opt", "seccomp=" + os.path.join(tmp, "seccomp.json"),
                              "--preload", "ctypes", "--two-phase", os.path.join(tmp, "seccomp-phase2.json"),
                              "--script", sc)
            self.assertEqual(res["stdout"].split("\n")[:3],
                             ["mmap-rwx %d" % p2["defaultErrnoRet"], "mmap-rw ok",
                              "mprotect-x %d" % p2["defaultErrnoRet"]], res["stderr"])


if __name__ == "__main__":
    tbtest.main()
