"""Attack suite, part 1: dangerous and unlisted syscalls, foreign syscall ABIs.

Every call is made by tests/probes/attack-syscalls with invalid arguments (bad pointers, fd -1,
unknown flags) so that an unfiltered kernel would answer EFAULT/EBADF/EINVAL; getting the profile's
errno instead proves the seccomp filter stopped the call before the kernel read its arguments.
The expected errno is read from profiles/default.json, so the assertions hold for any correct
hardened profile: EPERM (or whatever errnoRet the profile gives) for names it lists as denied, the
default action's errno for names it does not list, and a failure if it allows any of them.
"""
import errno
import os
import signal
import unittest

import tbtest
import attacklib as al

# Attack -> the syscall name whose rule decides it.
SYSCALL_OF = {
    "ptrace_attach": "ptrace", "ptrace_traceme": "ptrace",
    "process_vm_readv": "process_vm_readv", "process_vm_writev": "process_vm_writev",
    "unshare_newuser": "unshare", "unshare_badflags": "unshare", "setns": "setns",
    "mount": "mount", "umount2": "umount2", "chroot": "chroot", "pivot_root": "pivot_root",
    "keyctl": "keyctl", "keyctl_session": "keyctl", "add_key": "add_key", "request_key": "request_key",
    "bpf": "bpf", "perf_event_open": "perf_event_open", "userfaultfd": "userfaultfd",
    "io_uring_setup": "io_uring_setup", "io_uring_enter": "io_uring_enter",
    "open_by_handle_at": "open_by_handle_at", "name_to_handle_at": "name_to_handle_at",
    "personality_read_implies_exec": "personality", "personality_addr_no_randomize": "personality",
    "kcmp": "kcmp", "pidfd_getfd": "pidfd_getfd", "init_module": "init_module",
    "finit_module": "finit_module", "kexec_load": "kexec_load", "reboot": "reboot", "swapon": "swapon",
    "syslog": "syslog", "acct": "acct", "sethostname": "sethostname", "settimeofday": "settimeofday",
    "iopl": "iopl", "ioperm": "ioperm", "modify_ldt": "modify_ldt", "fsopen": "fsopen",
    "open_tree": "open_tree", "move_mount": "move_mount", "mount_setattr": "mount_setattr",
    "fanotify_init": "fanotify_init", "quotactl": "quotactl", "move_pages": "move_pages", "mbind": "mbind",
    "clone3": "clone3",
}
# Not dangerous-listed, and no hardened profile for Python needs them: the default action answers
# (or an explicit deny). A profile that allows one of these unconditionally fails the test.
# (mknodat is allowed since the default includes what CPython reaches through glibc: os.mkfifo
# needs it; device nodes stay refused by the kernel, without CAP_MKNOD and on nodev mounts.)
UNLISTED = ["memfd_create", "inotify_init1", "timerfd_create", "mq_open", "shmget",
            "msgget", "pidfd_open", "seccomp", "landlock_create_ruleset"]
# Calls whose rule has argument conditions: the probe's arguments never satisfy them, so the
# default action answers. (name -> syscall, why the args cannot match)
# attack -> (syscall, the arguments the probe passes (index -> value), why it must be refused)
ARG_FILTERED = {
    "clone_newuser": ("clone", {0: 0x10000000 | 17}, "CLONE_NEWUSER is a namespace flag: the clone rule allows none"),
    "clone_newns": ("clone", {0: 0x20000 | 17}, "CLONE_NEWNS is a namespace flag"),
    "ioctl_tiocsti": ("ioctl", {0: 0, 1: 0x5412}, "TIOCSTI (0x5412) is not an allowed request"),
    "ioctl_tiocsti_hi": ("ioctl", {0: 0, 1: 0xffffffff00005412},
                         "0xffffffff00005412 is TIOCSTI to the kernel (it truncates to 32 bits)"),
    "socket_packet": ("socket", {0: 17, 1: 3, 2: 0}, "AF_PACKET (17) is not an allowed family"),
    "socket_netlink": ("socket", {0: 16, 1: 3, 2: 9},
                       "AF_NETLINK (16) is allowed only for NETLINK_ROUTE (0), not NETLINK_AUDIT (9)"),
}
# What the unfiltered kernel answers as uid 65534 without capabilities (measured with
# seccomp=unconfined on kernel 6.18): different from the filter's errno, so the filter decided.
KERNEL_DIFFERS = {
    "ptrace_attach": errno.ESRCH, "process_vm_readv": errno.EFAULT, "setns": errno.EBADF,
    "mount": errno.EFAULT, "chroot": errno.EFAULT, "add_key": errno.EFAULT, "bpf": errno.EFAULT,
    "perf_event_open": errno.EFAULT, "io_uring_setup": errno.EFAULT, "io_uring_enter": errno.EBADF,
    "open_by_handle_at": errno.EFAULT, "ioctl_tiocsti": errno.ENOTTY, "ioctl_tiocsti_hi": errno.ENOTTY,
    "memfd_create": errno.EFAULT, "timerfd_create": errno.EINVAL,
    "unshare_badflags": errno.EINVAL, "clone3": errno.EFAULT,
}


def ename(e):
    return errno.errorcode.get(e, str(e))


class TestSyscalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        tbtest.need_file(tbtest.probe("attack-syscalls"), "probe not built")
        cls.profile = al.Profile()
        res = al.run_probe("attack-syscalls", "all")
        if res["exit_code"] != 0:
            raise AssertionError("probe failed: %r" % res)
        cls.filtered = al.parse_try(res["stdout"])
        res = al.run_probe("attack-syscalls", "all", opts=["--security-opt", "seccomp=unconfined"])
        cls.unconfined = al.parse_try(res["stdout"])

    def expected(self, sysname, attack):
        kind, val = self.profile.decision(sysname)
        self.assertNotIn(kind, ("allow",), "%s: profile allows %s unconditionally" % (attack, sysname))
        if kind == "kill":
            self.skipTest("%s: profile kills on %s (checked by test_kill_action)" % (attack, sysname))
        return val

    def check(self, attack, sysname):
        want = self.expected(sysname, attack)
        ret, err = self.filtered[attack]
        self.assertEqual(ret, -1, "%s succeeded inside the sandbox" % attack)
        self.assertEqual(err, want, "%s: got %s, the profile says %s" % (attack, ename(err), ename(want)))

    def test_dangerous_denied_with_profile_errno(self):
        for attack, sysname in sorted(SYSCALL_OF.items()):
            if attack == "ptrace_traceme":
                continue
            with self.subTest(attack=attack):
                self.check(attack, sysname)

    def test_unlisted_get_default_errno(self):
        for name in UNLISTED:
            with self.subTest(attack=name):
                kind, _ = self.profile.decision(name)
                self.assertNotIn(kind, ("allow", "allow-args"), "profile allows %s" % name)
                self.check(name, name)

    def test_argument_filtered(self):
        for attack, (sysname, args, why) in sorted(ARG_FILTERED.items()):
            with self.subTest(attack=attack, why=why):
                want = self.profile.evaluate(sysname, args)
                self.assertIsNotNone(want, "the profile allows %s with these arguments" % attack)
                ret, err = self.filtered[attack]
                self.assertEqual((ret, ename(err)), (-1, ename(want)), why)

    def test_filtered_not_merely_failed(self):
        """The unfiltered kernel gives another answer for the same bad arguments."""
        for attack, kernel_errno in sorted(KERNEL_DIFFERS.items()):
            with self.subTest(attack=attack):
                self.assertEqual(self.unconfined[attack], (-1, kernel_errno),
                                 "kernel answer changed: re-measure")
                self.assertNotEqual(self.filtered[attack][1], kernel_errno)

    def test_ptrace_traceme(self):
        res = al.run_probe("attack-syscalls", "ptrace_traceme")
        self.assertEqual(res["exit_code"], 0, res)
        want = self.expected("ptrace", "ptrace_traceme")
        self.assertEqual(al.parse_try(res["stdout"])["ptrace_traceme"], (-1, want))

    def test_raw_socket_stopped_by_capabilities(self):
        """socket(AF_INET, SOCK_RAW): without the filter the capability layer refuses it (no
        CAP_NET_RAW); with it, whatever the profile decides for AF_INET, never success."""
        want = self.profile.evaluate("socket", {0: 2, 1: 3, 2: 1})
        self.assertEqual(self.filtered["socket_inet_raw"], (-1, want if want is not None else errno.EPERM))
        self.assertEqual(self.unconfined["socket_inet_raw"], (-1, errno.EPERM))


class TestForeignAbi(unittest.TestCase):
    """i386 `int 0x80` and x32 numbers from an x86_64 process: the architecture check kills."""

    def setUp(self):
        tbtest.need_root()
        al.need_probe(self, "attack-foreign-abi")
        if os.uname().machine != "x86_64":
            self.skipTest("x86_64 only")

    def test_int80_killed(self):
        res = al.run_probe("attack-foreign-abi", "int80")
        self.assertEqual(res["signal"], signal.SIGSYS, res)
        self.assertEqual(res["stdout"], "start 1\n")  # nothing after the call

    def test_int80_works_unfiltered(self):
        """Proves the kill above is the filter's: without it, i386 getpid() returns our pid 1."""
        res = al.run_probe("attack-foreign-abi", "int80", opts=["--security-opt", "seccomp=unconfined"])
        self.assertEqual(res["stdout"], "start 1\nint80 1 0\n", res)

    def test_x32_killed(self):
        res = al.run_probe("attack-foreign-abi", "x32")
        self.assertEqual(res["signal"], signal.SIGSYS, res)
        self.assertEqual(res["stdout"], "start 1\n")

    def test_x32_unfiltered_is_enosys_here(self):
        """This kernel has no x32 support (ENOSYS): the filter must deny it anyway (above)."""
        res = al.run_probe("attack-foreign-abi", "x32", opts=["--security-opt", "seccomp=unconfined"])
        self.assertEqual(res["stdout"], "start 1\nx32 -1 %d\n" % errno.ENOSYS, res)


class TestOtherLayersWithoutSeccomp(unittest.TestCase):
    """seccomp=unconfined: namespaces, capabilities and read-only mounts still stop these."""

    def setUp(self):
        tbtest.need_root()

    def py(self, code, *opts):
        return tbtest.run_py(code, "--security-opt", "seccomp=unconfined", *opts)

    def test_mount_needs_caps(self):
        res = self.py("import ctypes,os\nlibc=ctypes.CDLL(None,use_errno=True)\n"
                      "r=libc.mount(b'none',b'/tmp',b'tmpfs',0,None)\nprint(r,ctypes.get_errno())")
        self.assertEqual(res["stdout"], "-1 %d\n" % errno.EPERM, res)

    def test_packet_socket_needs_cap_net_raw(self):
        res = self.py("import socket\ntry:\n socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                      " print('open')\nexcept OSError as e: print(e.errno)")
        self.assertEqual(res["stdout"], "%d\n" % errno.EPERM, res)

    def test_write_etc_erofs(self):
        for opts in ((), ("--security-opt", "landlock=unconfined")):
            res = self.py("import os\ntry:\n open('/etc/tb-attack','w')\n print('written')\n"
                          "except OSError as e: print(e.errno)", *opts)
            self.assertEqual(res["stdout"], "%d\n" % errno.EROFS, res)

    def test_caps_and_nnp(self):
        res = self.py("for l in open('/proc/self/status'):\n"
                      " if l.startswith(('Cap','NoNewPrivs','Seccomp:')): print(l.split()[0], l.split()[1])")
        want = {"CapInh:": "0000000000000000", "CapPrm:": "0000000000000000",
                "CapEff:": "0000000000000000", "CapBnd:": "0000000000000000",
                "CapAmb:": "0000000000000000", "NoNewPrivs:": "1", "Seccomp:": "0"}
        got = dict(l.split() for l in res["stdout"].splitlines())
        self.assertEqual(got, want)

    def test_seccomp_is_on_by_default(self):
        res = tbtest.run_py("print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')][0])")
        self.assertEqual(res["stdout"], "2\n", res)  # 2 = filter mode

    def test_landlock_enforced_with_a_ruleset(self):
        """Landlock on its own: a ruleset that grants reading only beneath /usr makes /etc
        unreadable although every other layer lets uid 65534 read /etc/passwd."""
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"format": "tightbox-landlock", "version": 1, "handled_access_fs": ["read_file", "read_dir", "execute"],'
                    ' "rules": [{"path": "/usr", "access": ["read_file", "read_dir", "execute"]}]}')
        try:
            res, p = tbtest.run_json("--security-opt", "seccomp=unconfined",
                                     "--security-opt", "landlock=" + f.name, "--",
                                     tbtest.PYTHON, "-S", "-c",
                                     "try:\n open('/etc/passwd')\n print('read')\n"
                                     "except OSError as e: print(e.errno)")
        finally:
            os.unlink(f.name)
        self.assertEqual(res["stdout"], "%d\n" % errno.EACCES, res)
        res = tbtest.run_py("print(len(open('/etc/passwd').read())>0)")
        self.assertEqual(res["stdout"], "True\n")


if __name__ == "__main__":
    tbtest.main()
