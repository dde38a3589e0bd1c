"""`tightbox run`: flags, defaults, the JSON result, exit codes and bad input, as real runs."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import tbtest
from tbtest import PYTHON, run_json, run_py, tightbox

FIELDS = {"stdout", "stderr", "stdout_truncated", "stderr_truncated", "stdout_bytes", "stderr_bytes",
          "stdout_omitted", "stderr_omitted", "stdin_bytes", "stdin_truncated",
          "exit_code", "signal", "timed_out", "oom_killed", "wall_ms", "cpu_ms", "max_rss_kib", "error",
          "output"}


def setUpModule():
    tbtest.need_root()


class Result(unittest.TestCase):
    def test_fields_exactly(self):
        res = run_py("print('hi')")
        self.assertEqual(set(res), FIELDS)
        self.assertEqual(res["stdout"], "hi\n")
        self.assertEqual(res["exit_code"], 0)
        self.assertIsNone(res["signal"])
        self.assertIsNone(res["error"])
        self.assertFalse(res["timed_out"] or res["oom_killed"])
        self.assertGreater(res["wall_ms"], 0)
        self.assertGreater(res["max_rss_kib"], 0)

    def test_exit_code_passed_through(self):
        res, p = run_json("--", PYTHON, "-c", "raise SystemExit(7)")
        self.assertEqual((res["exit_code"], p.returncode), (7, 7))
        p = tightbox("run", "--", PYTHON, "-c", "raise SystemExit(3)")
        self.assertEqual(p.returncode, 3)

    def test_killed_by_signal_is_128_plus_n(self):
        res, p = run_json("--", PYTHON, "-c", "import ctypes; ctypes.string_at(0)")
        self.assertEqual(res["signal"], signal.SIGSEGV)
        self.assertIsNone(res["exit_code"])
        self.assertEqual(p.returncode, 128 + signal.SIGSEGV)

    def test_not_found_127_not_executable_126(self):
        res, p = run_json("--", "/no/such/program")
        self.assertEqual(p.returncode, 127)
        self.assertIn("No such file", res["error"])
        self.assertEqual(tightbox("run", "--", "no-such-command-anywhere").returncode, 127)
        res, p = run_json("--", "/etc/passwd")
        self.assertEqual(p.returncode, 126)

    def test_invalid_utf8_is_escaped(self):
        res = run_py("import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe \\xc3\\xa9 \\x00end')")
        self.assertEqual(res["stdout"], "ok \\xff\\xfe \u00e9 \x00end")

    def test_output_caps_count_the_rest(self):
        res = run_py("import sys; sys.stdout.write('a'*50000); sys.stderr.write('b'*5000)")
        # The first and the last half of the limit, with the marker between them.
        self.assertEqual(res["stdout"], "a" * 5000 + "\n[tightbox: 40000 bytes omitted]\n" + "a" * 5000)
        self.assertEqual((res["stdout_bytes"], res["stdout_omitted"]), (50000, 40000))
        self.assertTrue(res["stdout_truncated"])
        self.assertEqual(res["stderr"], "b" * 1000 + "\n[tightbox: 3000 bytes omitted]\n" + "b" * 1000)
        self.assertEqual(res["stderr_bytes"], 5000)
        res = run_py("print('x'*100)", "--stdout-limit", "10", "--stderr-limit", "0")
        self.assertEqual(res["stdout"], "x" * 5 + "\n[tightbox: 91 bytes omitted]\n" + "xxxx\n")
        self.assertEqual(res["stdout_bytes"], 101)

    def test_passthrough_without_json_is_capped(self):
        p = tightbox("run", "--stdout-limit", "5", "--", PYTHON, "-c", "print('abcdefghij')")
        # The first 5 bytes live, then the marker and the last 2 (the tail half of the limit).
        self.assertEqual(p.stdout, b"abcde\n[tightbox: 4 bytes omitted]\nj\n")
        self.assertIn(b"omitted", p.stderr)

    def test_timeout_fractional(self):
        t = time.monotonic()
        res, p = run_json("--timeout", "0.5", "--", "/bin/sleep", "30")
        self.assertLess(time.monotonic() - t, 5)
        self.assertTrue(res["timed_out"])
        self.assertEqual(p.returncode, 124)
        self.assertEqual(res["signal"], signal.SIGKILL)


class Defaults(unittest.TestCase):
    def test_status_uid_caps_nnp_seccomp(self):
        out = run_py("print(open('/proc/self/status').read())")["stdout"]
        fields = dict(l.split(":", 1) for l in out.splitlines() if ":" in l)
        self.assertEqual(fields["Uid"].split(), ["65534"] * 4)
        self.assertEqual(fields["Gid"].split(), ["65534"] * 4)
        self.assertEqual(fields["Groups"].strip(), "")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(fields[cap], 16), 0, cap)
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")
        self.assertEqual(fields["Seccomp"].strip(), "2")

    def test_clean_environment(self):
        env = dict(os.environ, OPENAI_API_KEY="sk-test-secret-123")
        res = run_py("import os; print(sorted(os.environ.items()))", env=env)
        self.assertNotIn("sk-test-secret", res["stdout"])
        self.assertEqual(eval(res["stdout"]), [("HOME", "/tmp"), ("LANG", "C.UTF-8"),
                                               ("PATH", "/usr/local/bin:/usr/bin:/bin")])

    def test_env_flags(self):
        env = dict(os.environ, TB_PASS_ME="from-host")
        res = run_py("import os; print(os.environ['A'], os.environ['TB_PASS_ME'], os.environ['HOME'])",
                     "-e", "A=1", "--env", "TB_PASS_ME", "-e", "HOME=/sandbox", env=env)
        self.assertEqual(res["stdout"], "1 from-host /sandbox\n")

    def test_limits_visible(self):
        code = ("import resource as r; print(r.getrlimit(r.RLIMIT_NOFILE), r.getrlimit(r.RLIMIT_NPROC),"
                " r.getrlimit(r.RLIMIT_CORE))")
        self.assertEqual(run_py(code)["stdout"], "(64, 64) (32, 32) (0, 0)\n")
        # nproc counts every process of the uid on the host: use a uid of its own
        res = run_py(code, "--ulimit", "nofile=32:48", "--ulimit", "nproc=10", "--user", "23456")
        self.assertEqual(res["stdout"], "(32, 48) (10, 10) (0, 0)\n")

    def test_nproc_counts_per_sandbox_not_per_uid(self):
        # 40 concurrent sandboxes, all uid 65534 with the default nproc=32: each has a user
        # namespace of its own, so none is refused because of the others.
        procs = [subprocess.Popen([tbtest.TIGHTBOX, "run", "--json", "--", PYTHON, "-c",
                                   "import time; time.sleep(1); print('ok')"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(40)]
        outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
        self.assertEqual([o["stdout"] for o in outs], ["ok\n"] * 40, [o["error"] for o in outs])
        # ... and within one sandbox the limit holds.
        code = ("import os, time\nn = 0\ntry:\n    for _ in range(50):\n        if os.fork() == 0:\n"
                "            time.sleep(3); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print(n, e.errno)\n")
        self.assertEqual(run_py(code, "--pids-limit", "100")["stdout"], "31 11\n")

    def test_tmp_is_small_noexec_and_private(self):
        out = run_py("print([l for l in open('/proc/self/mountinfo') if ' /tmp ' in l][0])")["stdout"]
        self.assertIn("noexec", out)
        self.assertIn("size=51200k", out)

    def test_hostname_and_network(self):
        res = run_py("import socket,os; print(socket.gethostname(), sorted(os.listdir('/sys')),"
                     " [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]])")
        self.assertEqual(res["stdout"], "tightbox [] ['lo']\n")

    def test_root_is_minimal(self):
        res = run_py("import os; print(sorted(os.listdir('/')))")
        names = eval(res["stdout"])
        for hidden in ("home", "root", "run", "var", "srv", "mnt"):
            self.assertNotIn(hidden, names)
        for shown in ("usr", "etc", "tmp", "proc", "dev"):
            self.assertIn(shown, names)
        res = run_py("import os; print(sorted(os.listdir('/dev')))")
        self.assertEqual(eval(res["stdout"]), ["fd", "full", "null", "ptmx", "random", "shm",
                                               "stderr", "stdin", "stdout", "urandom", "zero"])


class Flags(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tb-run-test-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_script_and_workdir(self):
        path = os.path.join(self.dir, "user.py")
        with open(path, "w") as f:
            f.write("import os, sys; print(os.getcwd(), sys.argv[0])\n")
        os.chmod(path, 0o666)  # only the read-only mount may stop the write below
        res, _ = run_json("--script", path)
        self.assertEqual(res["stdout"], "/sandbox /sandbox/script.py\n")
        res, _ = run_json("--script", path, "-w", "/tmp")
        self.assertEqual(res["stdout"], "/tmp /sandbox/script.py\n")
        # /sandbox is the run's own writable tmpfs holding a copy: the host file is never touched.
        res = run_py("open('/sandbox/script.py', 'a').write('# x')", "--script", path)
        self.assertEqual(res["exit_code"], 0, res)
        with open(path) as f:
            self.assertNotIn("# x", f.read())

    def test_volume_ro_default_and_rw(self):
        with open(os.path.join(self.dir, "in.txt"), "w") as f:
            f.write("data")
        res = run_py("print(open('/data/in.txt').read()); open('/data/x', 'w')", "-v", self.dir + ":/data")
        self.assertEqual(res["stdout"], "data\n")
        self.assertIn("Read-only file system", res["stderr"])
        res = run_py("open('/data/out.txt', 'w').write('hi')", "-v", self.dir + ":/data:rw")
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        with open(os.path.join(self.dir, "out.txt")) as f:
            self.assertEqual(f.read(), "hi")

    def test_stdin_file(self):
        path = os.path.join(self.dir, "in")
        with open(path, "w") as f:
            f.write("line1\nline2\n")
        res = run_py("import sys; print(len(sys.stdin.readlines()))", "--stdin", path)
        self.assertEqual(res["stdout"], "2\n")
        self.assertEqual(run_py("import sys; print(repr(sys.stdin.read()))")["stdout"], "''\n")

    def test_user(self):
        res = run_py("import os; print(os.getuid(), os.getgid())", "--user", "1234:2345")
        self.assertEqual(res["stdout"], "1234 2345\n")

    def test_tmpfs_replaces_default(self):
        res = run_py("print([l.split()[-1] for l in open('/proc/self/mountinfo') if ' /tmp ' in l])",
                     "--tmpfs", "/tmp:size=1m")
        self.assertIn("size=1024k", res["stdout"])
        res = run_py("open('/scratch/f','w').write('x'*4096); print('ok')", "--tmpfs", "/scratch:size=64k")
        self.assertEqual(res["stdout"], "ok\n")

    def test_memory_flag(self):
        res = run_py("x = bytearray(100 * 1024 * 1024); print('allocated')", "--memory", "32m")
        self.assertTrue(res["oom_killed"] or "MemoryError" in res["stderr"], res)
        self.assertNotEqual(res["stdout"], "allocated\n")

    def test_pids_flag(self):
        code = ("import os\nn=0\ntry:\n    for _ in range(50):\n        if os.fork()==0:\n"
                "            import time; time.sleep(5)\n        n+=1\nexcept OSError as e:\n"
                "    print(n, e.errno)\n")
        res = run_py(code, "--pids-limit", "5")
        self.assertEqual(res["stdout"], "4 11\n")

    def test_image_rootfs(self):
        tar = "/var/tmp/tightbox-podman/images/base-bookworm/rootfs.tar"
        tbtest.need_file(tar, "the Debian base image (scripts/build-image builds it)")
        root = os.path.join(self.dir, "rootfs")
        os.mkdir(root)
        subprocess.run(["tar", "-C", root, "-xf", tar, "--exclude=./dev/*"], check=True)
        with open(os.path.join(root, "marker-from-image"), "w") as f:
            f.write("image")
        res = run_py("import os; print(open('/marker-from-image').read(), 'home' in os.listdir('/'))",
                     "--rootfs", root)
        self.assertEqual(res["stdout"], "image True\n", res)
        res = run_py("open('/marker-from-image', 'w')", "--rootfs", root)
        self.assertIn("Read-only file system", res["stderr"])

    def test_inside_a_container_with_masked_proc(self):
        # Container runtimes mount over /proc/kcore, /proc/keys and friends; a user namespace may then not
        # mount a fresh /proc. The sandbox does without its own user namespace, and says so.
        tbtest.need_cmd("unshare")
        script = ("mount --bind /dev/null /proc/keys && exec %s run --json -- %s -c "
                  "'import os; print(os.getuid(), open(\"/proc/self/uid_map\").read().split())'"
                  % (tbtest.TIGHTBOX, PYTHON))
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                           capture_output=True, timeout=60)
        res = json.loads(p.stdout)
        self.assertEqual(res["stdout"], "65534 ['0', '0', '4294967295']\n", res)
        self.assertIn(b"no user namespace for the sandbox", p.stderr)

    def test_apparmor_without_kernel_support_warns(self):
        if os.path.exists("/sys/kernel/security/apparmor"):
            self.skipTest("this kernel has AppArmor")
        p = tightbox("run", "--security-opt", "apparmor=tightbox-default", "--", "/bin/true")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"not enforced", p.stderr)


class Profiles(unittest.TestCase):
    CODE = ("import threading, subprocess, json; t = threading.Thread(target=lambda: None); t.start(); t.join();"
            " print(subprocess.run(['/usr/bin/python3', '-c', 'print(6*7)'], capture_output=True, text=True).stdout.strip())")

    def run_profile(self, path):
        res = run_py(self.CODE, "--security-opt", "seccomp=" + path)
        self.assertEqual(res["stdout"], "42\n", res)

    def test_docker_default(self):
        path = os.path.join(tbtest.PEERS_DIR, "docker-default.json")
        tbtest.need_file(path, "Docker's default profile (tests/fixtures/profiles)")
        self.run_profile(path)

    def test_podman_default(self):
        tbtest.need_file("/usr/share/containers/seccomp.json", "package golang-github-containers-common")
        self.run_profile("/usr/share/containers/seccomp.json")

    def test_shipped_default(self):
        self.run_profile(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json"))

    def test_denied_syscall_errno(self):
        code = "import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.ptrace(0,0,0,0), ctypes.get_errno())"
        self.assertEqual(run_py(code)["stdout"], "-1 1\n")
        # Unconfined seccomp: the other layers still hold (no CAP_SYS_PTRACE needed for TRACEME,
        # so TRACEME succeeds; attaching to another process of the host is impossible: none visible).
        res = run_py("import os; print(sorted(p for p in os.listdir('/proc') if p.isdigit()))",
                     "--security-opt", "seccomp=unconfined")
        self.assertEqual(res["stdout"], "['1']\n")


class BadInput(unittest.TestCase):
    """Every bad input: exit 125, one clear line naming the flag or file, the command never started."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tb-bad-")
        os.chmod(self.dir, 0o777)
        self.marker = os.path.join(self.dir, "started")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def check(self, args, expect):
        cmd = ["-v", self.dir + ":/out:rw", *args, "--", PYTHON, "-c", "open('/out/started','w')"]
        p = tightbox("run", *cmd)
        self.assertEqual(p.returncode, 125, p.stderr)
        self.assertIn(expect.encode(), p.stderr)
        self.assertFalse(os.path.exists(self.marker), "the command ran despite bad input")
        pj = tightbox("run", "--json", *cmd)
        self.assertEqual(pj.returncode, 125)
        self.assertIn(expect, json.loads(pj.stdout)["error"])

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_bad_sizes_and_numbers(self):
        self.check(["--memory", "10q"], "--memory: invalid size '10q'")
        self.check(["--cpus", "0"], "--cpus: invalid CPU count '0'")
        self.check(["--timeout", "-1"], "--timeout: invalid duration '-1'")
        self.check(["--pids-limit", "many"], "--pids-limit")
        self.check(["--ulimit", "nofile=10:5"], "soft limit is above the hard limit")
        self.check(["--ulimit", "bogus=1"], "unknown resource name")

    def test_unknown_and_refused_flags(self):
        self.check(["--bogus"], "unknown option '--bogus'")
        self.check(["--cap-add", "SYS_ADMIN"], "--cap-add: refused")
        self.check(["--network", "host"], "only 'none' is supported")
        self.check(["--security-opt", "label=disable"], "unsupported option")
        self.check(["--user", "0"], "refuses to run untrusted code as uid or gid 0")

    def test_missing_paths(self):
        self.check(["--rootfs", "/no/such/rootfs"], "/no/such/rootfs")
        self.check(["-v", "/no/such/src:/x"], "/no/such/src: --volume")
        self.check(["--script", "/no/such/script.py"], "/no/such/script.py")
        self.check(["--stdin", "/no/such/input"], "/no/such/input")
        self.check(["-v", "relative:/x"], "absolute host path")
        self.check(["-v", "/tmp:../x"], "must be absolute")

    def test_bad_profiles(self):
        self.check(["--security-opt", "seccomp=/no/such.json"], "/no/such.json")
        self.check(["--security-opt", "seccomp=" + self.write("t.json", '{"defaultAction": ')],
                   "t.json:1")
        self.check(["--security-opt", "seccomp=" + self.write("a.json", "[1, 2]")], "a.json")
        bad_action = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}]}'
        self.check(["--security-opt", "seccomp=" + self.write("b.json", bad_action)],
                   "syscalls[0].action")
        bad_op = ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",'
                  ' "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_WHAT"}]}]}')
        self.check(["--security-opt", "seccomp=" + self.write("c.json", bad_op)], "syscalls[0].args[0].op")
        bad_index = ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",'
                     ' "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}')
        self.check(["--security-opt", "seccomp=" + self.write("d.json", bad_index)], "syscalls[0].args[0].index")

    def test_unknown_syscall_names_warn_and_run(self):
        prof = self.write("u.json", json.dumps({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["no_such_syscall_xyz", "ptrace"], "action": "SCMP_ACT_ERRNO"}]}))
        p = tightbox("run", "--security-opt", "seccomp=" + prof, "--", PYTHON, "-c", "print('ran')")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"ran\n")
        self.assertIn(b"no_such_syscall_xyz", p.stderr)


class HangsAndBlowUps(BadInput):
    """Inputs that used to hang tightbox or blow it up (issue: FIFOs, huge limits, huge profiles)."""

    def fifo(self, name):
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        return path

    def test_fifo_inputs_are_refused_with_the_name(self):
        # Without a writer, opening a FIFO blocks forever: refused instead, without waiting.
        f = self.fifo("in.fifo")
        self.check(["--stdin", f], f + ": --stdin: not a regular file (a FIFO)")
        self.check(["--security-opt", "seccomp=" + f], f + ": cannot read the seccomp profile: not a regular file")
        self.check(["--security-opt", "landlock=" + f], f + ": cannot read: not a regular file")
        self.check(["--stdin", self.dir], "--stdin: not a regular file (a directory)")

    def test_output_limits_are_capped_by_name(self):
        self.check(["--stdout-limit", "100000000000"], "--stdout-limit: at most 1073741824 bytes")
        self.check(["--stderr-limit", "2g"], "--stderr-limit: at most 1073741824 bytes")

    def repeated_default(self, names):
        """The default profile with every name repeated until about NAMES names in all."""
        with open(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")) as f:
            prof = json.load(f)
        times = max(1, names // sum(len(r["names"]) for r in prof["syscalls"]))
        for rule in prof["syscalls"]:
            rule["names"] = rule["names"] * times
        return self.write("rep%d.json" % times, json.dumps(prof))

    def test_repeated_names_are_deduplicated(self):
        # Hundreds of copies of every name (~2 MB, under the 262144-name cap): the same filter as
        # the default, compiled once per name (it took minutes, each libseccomp add costing as
        # much as the filter so far).
        prof = self.repeated_default(200000)
        code = ("import errno,os,socket\n"
                "def t(f):\n try:\n  f(); print('ok')\n except OSError as e: print(errno.errorcode[e.errno])\n"
                "t(lambda: os.mkfifo('/tmp/f'))\nt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))\n"
                "t(lambda: os.sched_setaffinity(0, {0}))\nt(lambda: os.setpgid(0, 0))\nprint('ran')")
        res, p = run_json("--security-opt", "seccomp=" + prof, "--", PYTHON, "-c", code)
        want, _ = run_json("--", PYTHON, "-c", code)
        self.assertEqual(p.returncode, 0, res)
        self.assertEqual(res["stdout"], want["stdout"])  # the default's decisions, call by call
        self.assertTrue(res["stdout"].endswith("ran\n"), res)
        # An unknown name listed 1000 times is one name, skipped once (it was 1000 warnings).
        prof = self.write("unknown.json", json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["no_such_syscall_xyz"] * 1000 + ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}))
        p = tightbox("run", "--security-opt", "seccomp=" + prof, "--", "/bin/true")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"1 syscall name unknown", p.stderr)

    def test_argument_rules_are_capped(self):
        rules = [{"names": ["read", "write", "exit_group", "execve", "brk", "mmap"], "action": "SCMP_ACT_ALLOW"}]
        rules += [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                   "args": [{"index": 1, "value": i, "op": "SCMP_CMP_EQ"}]} for i in range(10000)]
        prof = self.write("args.json", json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules}))
        self.check(["--security-opt", "seccomp=" + prof], "10000 argument-conditioned rules")
        self.check(["--security-opt", "seccomp=" + prof], "at most 2048")

    def test_too_many_names_are_refused(self):
        prof = self.write("names.json", json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["getpid"] * 300000, "action": "SCMP_ACT_ERRNO"}]}))
        self.check(["--security-opt", "seccomp=" + prof], "300000 syscall names in all: at most 262144")


class TerminalEscapes(unittest.TestCase):
    OUT = "a\x1b]0;owned\x07b\x1b[2Jc\r\u009bd \u2026\n"

    def run_printing(self, *opts, stdout=subprocess.PIPE):
        """The run, with tightbox's own warning lines (an older kernel's Landlock ABI, say) taken
        out of stderr: only the program's bytes are compared."""
        code = "import sys; sys.stdout.write(%r); sys.stderr.write(%r)" % (self.OUT, self.OUT)
        p = subprocess.run([tbtest.TIGHTBOX, "run", *opts, "--", PYTHON, "-c", code],
                           stdout=stdout, stderr=subprocess.PIPE, timeout=120)
        p.stderr = b"".join(l for l in p.stderr.splitlines(True)
                            if not l.startswith(b"tightbox run: warning: "))
        return p

    def test_always_escapes_controls_keeps_text(self):
        p = self.run_printing("--escape-output", "always")
        want = b"a\\x1b]0;owned\\x07b\\x1b[2Jc\\x0d\\xc2\\x9bd \xe2\x80\xa6\n"
        self.assertEqual(p.stdout, want)
        self.assertEqual(p.stderr, want)

    def test_never_and_non_terminal_pass_bytes(self):
        for opts in ((), ("--escape-output", "never")):
            p = self.run_printing(*opts)
            self.assertEqual(p.stdout, self.OUT.encode())

    def test_auto_escapes_when_stdout_is_a_terminal(self):
        import pty
        master, slave = pty.openpty()
        try:
            p = self.run_printing(stdout=slave)
            os.close(slave)
            slave = -1
            got = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"\\x1b]0;owned", got)
        self.assertNotIn(b"\x1b]0;", got)
        self.assertEqual(p.stderr, self.OUT.encode())  # stderr is a pipe here: raw

    def test_bad_value(self):
        p = tightbox("run", "--escape-output", "sometimes", "--", "/bin/true")
        self.assertEqual(p.returncode, 125)
        self.assertIn(b"--escape-output: expected auto, always or never", p.stderr)


class Help(unittest.TestCase):
    def test_help_documents_flags(self):
        for args in (("--help",), ("run", "--help")):
            p = tightbox(*args)
            self.assertEqual(p.returncode, 0)
        text = tightbox("run", "--help").stdout.decode()
        for flag in ("--network", "--tmpfs", "--memory", "--memory-swap", "--cpus", "--pids-limit",
                     "--ulimit", "--cap-drop", "--security-opt", "--user", "--env", "--volume",
                     "--workdir", "--timeout", "--stdout-limit", "--stderr-limit", "--stdin",
                     "--script", "--json"):
            self.assertIn(flag, text)


if __name__ == "__main__":
    tbtest.main()
