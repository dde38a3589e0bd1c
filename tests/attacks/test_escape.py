"""Attack suite, part 2: filesystem, secrets, network, descriptors, signals, /proc, persistence.

Each attack runs with the default flags (a read-only volume only where a probe or a rendezvous
needs one) and asserts the exact errno or host-side evidence. The README next to this file maps
each attack to the layer that stops it.
"""
import errno
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

import tbtest
import attacklib as al

E = errno.errorcode


def py_errno(expr):
    """Python source printing the errno name EXPR raised, or 'ok'."""
    return ("import errno,os\ntry:\n %s\n print('ok')\nexcept OSError as e: print(errno.errorcode[e.errno])"
            % expr)


class TestFilesystem(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()

    def errno_of(self, expr, *opts):
        res = tbtest.run_py(py_errno(expr), *opts)
        self.assertEqual(res["exit_code"], 0, res)
        return res["stdout"].strip()

    def test_write_outside_tmp_erofs(self):
        for path in ("/etc/tb-attack", "/usr/tb-attack", "/tb-attack", "/bin/tb-attack", "/dev/tb-attack"):
            with self.subTest(path=path):
                self.assertEqual(self.errno_of("open(%r, 'w')" % path), "EROFS")
        self.assertEqual(self.errno_of("os.mkdir('/home')"), "EROFS")

    def test_host_private_dirs_absent(self):
        res = tbtest.run_py("import os\nprint(sorted(os.listdir('/')))\nprint(os.listdir('/sys'))")
        top = eval(res["stdout"].splitlines()[0])
        for private in ("root", "home", "run", "var", "srv", "work", "mnt", "media"):
            self.assertNotIn(private, top)
        self.assertEqual(res["stdout"].splitlines()[1], "[]")

    def test_read_etc_shadow_eacces(self):
        need = os.stat("/etc/shadow")
        self.assertFalse(need.st_mode & 0o004, "host /etc/shadow is world-readable: test is moot")
        self.assertEqual(self.errno_of("open('/etc/shadow').read()"), "EACCES")

    def test_exec_from_tmp_and_shm_eacces(self):
        for d in ("/tmp", "/dev/shm"):
            with self.subTest(dir=d):
                code = ("import shutil,os,errno\nshutil.copy('/bin/true', '%s/x')\nos.chmod('%s/x', 0o755)\n"
                        "try:\n os.execv('%s/x', ['x'])\nexcept OSError as e: print(errno.errorcode[e.errno])"
                        % (d, d, d))
                res = tbtest.run_py(code)
                self.assertEqual(res["stdout"], "EACCES\n", res)

    def test_exec_from_tmp_via_loader_fails_to_map(self):
        """ld.so /tmp/x: the loader mmaps the file PROT_EXEC, which a noexec mount refuses."""
        code = ("import shutil,subprocess\nshutil.copy('/bin/true', '/tmp/x')\n"
                "r = subprocess.run(['/lib64/ld-linux-x86-64.so.2', '/tmp/x'], capture_output=True)\n"
                "print(r.returncode, b'failed to map segment' in r.stderr)")
        res = tbtest.run_py(code)
        self.assertEqual(res["stdout"], "127 True\n", res)

    def test_fileless_exec_memfd_denied(self):
        kind, val = al.Profile().decision("memfd_create")
        self.assertNotIn(kind, ("allow", "allow-args"))
        self.assertEqual(self.errno_of("os.memfd_create('x')"), E[val])

    def test_overwrite_proc_self_exe(self):
        """The interpreter binary is root-owned 0755 (EACCES before the read-only mount's EROFS
        or the running text's ETXTBSY would be reached); all three would stop it."""
        self.assertEqual(self.errno_of("open('/proc/self/exe', 'r+b')"), "EACCES")
        self.assertEqual(self.errno_of("open('/proc/self/exe', 'r+b')", "--security-opt", "seccomp=unconfined",
                                       "--security-opt", "landlock=unconfined"), "EACCES")

    def test_tmp_is_writable_and_capped(self):
        """tmpfs fill: ENOSPC at the 50 MiB default, the bytes written just under it."""
        code = ("import errno\nn=0\nf=open('/tmp/fill','wb')\nb=b'x'*(1<<20)\ntry:\n while True:\n"
                "  f.write(b); f.flush(); n+=len(b)\nexcept OSError as e: print(errno.errorcode[e.errno], n)")
        res = tbtest.run_py(code)
        name, n = res["stdout"].split()
        self.assertEqual(name, "ENOSPC", res)
        self.assertGreaterEqual(int(n), 48 << 20)
        self.assertLessEqual(int(n), 50 << 20)

    def test_dev_shm_capped(self):
        code = ("import errno\nn=0\nf=open('/dev/shm/fill','wb')\nb=b'x'*(1<<20)\ntry:\n while True:\n"
                "  f.write(b); f.flush(); n+=len(b)\nexcept OSError as e: print(errno.errorcode[e.errno], n)")
        name, n = tbtest.run_py(code)["stdout"].split()
        self.assertEqual(name, "ENOSPC")
        self.assertLessEqual(int(n), 16 << 20)

    def test_proc_sys_readonly(self):
        for path in ("/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/core_pattern"):
            with self.subTest(path=path):
                got = self.errno_of("open(%r, 'w').write('1')" % path)
                # core_pattern is masked by /dev/null (writable, harmless): the write goes nowhere.
                self.assertIn(got, ("EROFS",) if "core_pattern" not in path else ("ok", "EROFS", "EACCES"))
        if os.path.exists("/proc/sysrq-trigger"):
            self.assertIn(self.errno_of("open('/proc/sysrq-trigger','w').write('h')"), ("EROFS", "EACCES"))
        # Whatever the write did, the host's value is unchanged.
        with open("/proc/sys/kernel/hostname") as f:
            self.assertNotEqual(f.read().strip(), "1")

    def test_proc_masked(self):
        masked = [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                              "/proc/latency_stats") if os.path.exists(p)]
        if not masked:
            self.skipTest("this kernel has none of the masked /proc files")
        res = tbtest.run_py("for p in %r: print(p, len(open(p,'rb').read(4096)))" % masked)
        self.assertEqual(res["stdout"], "".join("%s 0\n" % p for p in masked), res)


class TestSecrets(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()

    def test_caller_env_invisible(self):
        secret = "sk-tb-attack-" + os.urandom(8).hex()
        env = dict(os.environ, TB_FAKE_API_KEY=secret, OPENAI_API_KEY=secret)
        # The parent pid from /proc/self/status (getppid may be outside a minimal profile).
        code = ("import os,glob\nhits=[]\nprint(sorted(os.environ))\n"
                "ppid=[l.split()[1] for l in open('/proc/self/status') if l.startswith('PPid:')][0]\n"
                "for p in glob.glob('/proc/[0-9]*/environ') + ['/proc/1/environ', '/proc/%%s/environ' %% ppid]:\n"
                " try:\n  d=open(p,'rb').read()\n except OSError: continue\n"
                " if b'%s' in d: hits.append(p)\nprint(hits, ppid)" % secret)
        # Through a shell, so python's parent is a process inside the sandbox too.
        res, _ = tbtest.run_json("--", "/bin/sh", "-c", "%s -c \"$0\"; true" % tbtest.PYTHON, code, env=env)
        lines = res["stdout"].splitlines()
        names = eval(lines[0])
        self.assertNotIn("TB_FAKE_API_KEY", names)
        # Only the base environment (PWD/SHLVL/LC_CTYPE are what sh and Python add themselves).
        self.assertLessEqual(set(names), {"HOME", "LANG", "PATH", "PWD", "SHLVL", "LC_CTYPE"}, res)
        self.assertEqual(lines[1].split()[0], "[]", res)
        self.assertEqual(lines[1].split()[1], "1")  # the shell, pid 1 of the sandbox
        self.assertNotIn(secret, res["stdout"] + res["stderr"])


class TestNetwork(unittest.TestCase):
    """The network namespace is the layer under test: each attack runs once with the seccomp
    filter off (the namespace alone must hold) and once with the defaults (then the profile may
    refuse the socket itself first: its errno, read from the profile, is what the program sees)."""

    def setUp(self):
        tbtest.need_root()

    def both(self, code, family, sock_type, kernel_answer):
        res = tbtest.run_py(code, "--security-opt", "seccomp=unconfined")
        self.assertEqual(res["stdout"], kernel_answer + "\n", res)
        want = al.Profile().evaluate("socket", {0: family, 1: sock_type | 0x80000, 2: 0})
        res = tbtest.run_py(code)
        self.assertEqual(res["stdout"], (E[want] if want is not None else kernel_answer) + "\n", res)

    def test_host_loopback_listener_unreachable(self):
        """The sandbox's 127.0.0.1 is its own loopback: the host's listener is not there
        (ECONNREFUSED from the sandbox's empty lo) and accepts nothing."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.settimeout(0)
        port = srv.getsockname()[1]
        try:
            self.both(py_errno("import socket; socket.create_connection(('127.0.0.1', %d), 2)" % port),
                      socket.AF_INET, socket.SOCK_STREAM, "ECONNREFUSED")
            with self.assertRaises(BlockingIOError):
                srv.accept()
        finally:
            srv.close()

    def test_no_route_out(self):
        """Any other address: no interface but lo, so no route (ENETUNREACH)."""
        for addr in ("192.0.2.1", "10.0.2.2", "8.8.8.8"):
            with self.subTest(addr=addr):
                self.both(py_errno("import socket; socket.create_connection((%r, 80), 2)" % addr),
                          socket.AF_INET, socket.SOCK_STREAM, "ENETUNREACH")
        res = tbtest.run_py("print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))")
        self.assertEqual(res["stdout"], "['lo']\n", res)

    def test_udp_to_host_loopback_not_received(self):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        try:
            code = ("import socket, errno\ntry:\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "    s.sendto(b'leak', ('127.0.0.1', %d)); print('SENT')\n"
                    "except OSError as e:\n    print(errno.errorcode[e.errno])" % rx.getsockname()[1])
            # Sent into the sandbox's own lo (or refused by the profile): never to the host's.
            self.both(code, socket.AF_INET, socket.SOCK_DGRAM, "SENT")
            with self.assertRaises(BlockingIOError):
                rx.recv(16)
        finally:
            rx.close()

    def test_host_abstract_unix_socket_unreachable(self):
        name = "\0tb-attack-" + os.urandom(4).hex()
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(name)
        srv.listen(1)
        try:
            res = tbtest.run_py(py_errno("import socket; socket.socket(socket.AF_UNIX).connect(%r)" % name))
            self.assertEqual(res["stdout"], "ECONNREFUSED\n", res)
        finally:
            srv.close()

    def test_packet_socket(self):
        """AF_PACKET: the socket rule allows only AF_UNIX/AF_INET/AF_INET6, so the profile's
        default action answers (without the filter: EPERM, no CAP_NET_RAW: test_syscalls)."""
        want = al.Profile().evaluate("socket", {0: socket.AF_PACKET, 1: socket.SOCK_RAW | 0x80000, 2: 0})
        res = tbtest.run_py(py_errno("import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)"))
        self.assertEqual(res["stdout"], "%s\n" % E.get(want, "EPERM"), res)


class TestDescriptorsAndSignals(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()

    def test_leaked_fd_not_inherited(self):
        with tempfile.NamedTemporaryFile() as f:
            fd = os.open(f.name, os.O_RDONLY)  # Python makes it CLOEXEC: undo that
            os.set_inheritable(fd, True)
            try:
                code = ("import os\nopen_fds=[]\nfor n in range(1024):\n try:\n  os.fstat(n); open_fds.append(n)\n"
                        " except OSError: pass\nprint(open_fds)")
                r = al.run("--", tbtest.PYTHON, "-c", code, pass_fds=(fd,))
            finally:
                os.close(fd)
        self.assertEqual(r.res["stdout"], "[0, 1, 2]\n", r.res)

    def test_kill_all_spares_host_process_of_same_uid(self):
        victim = subprocess.Popen(["/bin/sleep", "60"], preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        try:
            code = ("import os,subprocess,errno\np=subprocess.Popen(['/bin/sleep','30'])\n"
                    "try:\n os.kill(-1, 9); print('sent')\nexcept OSError as e: print(errno.errorcode[e.errno])\n"
                    "print(p.wait())\n"
                    "try:\n os.kill(%d, 9); print('sent')\nexcept OSError as e: print(errno.errorcode[e.errno])"
                    % victim.pid)
            res = tbtest.run_py(code)
            # kill(-1) reaches only the sandbox's own processes: its sleep dies, the host's lives.
            self.assertEqual(res["stdout"], "sent\n-9\nESRCH\n", res)
            self.assertIsNone(victim.poll())
        finally:
            victim.kill()
            victim.wait()


class TestPersistence(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()

    def test_nothing_survives_between_runs(self):
        code1 = ("import os\nopen('/tmp/persist','w').write('1')\nopen('/dev/shm/persist','w').write('1')\n"
                 "print(os.path.exists('/tmp/persist'), os.path.exists('/dev/shm/persist'))")
        self.assertEqual(tbtest.run_py(code1)["stdout"], "True True\n")
        code2 = "import os\nprint(os.path.exists('/tmp/persist'), os.path.exists('/dev/shm/persist'), os.listdir('/tmp'))"
        self.assertEqual(tbtest.run_py(code2)["stdout"], "False False []\n")

    def test_keyring_cannot_be_used(self):
        """Keyrings are per uid and not namespaced: without the filter a run could leave a key
        in uid 65534's user keyring for the next run. keyctl/add_key are denied."""
        al.need_probe(self, "attack-syscalls")
        prof = al.Profile()
        for name in ("keyctl", "add_key"):
            kind, val = prof.decision(name)
            self.assertEqual(kind, "errno", "%s must be denied" % name)
        res = al.run_probe("attack-syscalls", "keyctl_session", "add_key")
        self.assertEqual(al.parse_try(res["stdout"]),
                         {"keyctl_session": (-1, prof.decision("keyctl")[1]),
                          "add_key": (-1, prof.decision("add_key")[1])})

    def test_concurrent_runs_do_not_share_tmp(self):
        """Two runs meet through a shared rw volume (the rendezvous), then look for each other's
        /tmp file: each sees only its own."""
        sync = tempfile.mkdtemp(prefix="tb-attack-sync-")
        os.chmod(sync, 0o777)
        code = ("import os,sys,time\nme,other=sys.argv[1],sys.argv[2]\nopen('/tmp/'+me,'w').write(me)\n"
                "open('/sync/'+me,'w').write('ready')\n"
                "while not os.path.exists('/sync/'+other): time.sleep(0.01)\n"
                "print(sorted(os.listdir('/tmp')))")
        try:
            out = {}

            def one(me, other):
                out[me], _ = tbtest.run_json("-v", sync + ":/sync:rw", "--", tbtest.PYTHON, "-c", code, me, other)

            ts = [threading.Thread(target=one, args=("a", "b")), threading.Thread(target=one, args=("b", "a"))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        finally:
            shutil.rmtree(sync)
        self.assertEqual(out["a"]["stdout"], "['a']\n", out["a"])
        self.assertEqual(out["b"]["stdout"], "['b']\n", out["b"])


if __name__ == "__main__":
    tbtest.main()
