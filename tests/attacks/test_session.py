"""Attack suite, part 4: what the sandbox inherits from the caller (session keyring, process
group), volumes that a previous run left symlinks or sockets in, and a profile that denies execve.

Each attack runs under every mode that runs untrusted code - `run`, `record` with both backends
(bpf skips where unavailable) and `explain` - with the layers that would otherwise stop it turned
off, so the layer named in README.md is the one under test.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import tbtest
import attacklib as al

SESSION = tbtest.probe("attack-session")
UNCONFINED = ["--security-opt", "seccomp=unconfined", "--security-opt", "landlock=unconfined"]
MODES = ("run", "record-ptrace", "record-bpf", "explain")


def setUpModule():
    tbtest.need_root()
    tbtest.need_file(SESSION, "probe attack-session not built")


def mode_argv(mode, tmp):
    """The tightbox arguments that start MODE (the run options and the command follow)."""
    if mode == "run":
        return ["run"]
    if mode.startswith("record-"):
        return ["record", "--backend", mode.split("-", 1)[1], "-o", os.path.join(tmp, "rec.json")]
    return ["explain"]



def process_state(pid):
    """The state letter of @pid ("gone" once reaped). A process caught in uninterruptible sleep
    (D: setpriv still exec'ing sleep on a loaded machine) is looked at again once it leaves it:
    a signal that reached it is only acted on then, as a zombie (Z) or its disappearance."""
    for _ in range(100):
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return "gone"
        if state != "D":
            return state
        time.sleep(0.05)
    return state

class Modes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tb-session-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_mode(self, mode, opts, cmd, prefix=(), **kw):
        """Runs CMD under MODE; returns the CompletedProcess (text output)."""
        p = subprocess.run([*prefix, tbtest.TIGHTBOX, *mode_argv(mode, self.tmp), *opts, "--", *cmd],
                           capture_output=True, text=True, timeout=120, **kw)
        if mode == "record-bpf" and p.returncode == 125 and "not available" in p.stderr:
            self.skipTest(p.stderr.strip())
        return p


class TestInherited(Modes):
    def setUp(self):
        super().setUp()
        tbtest.need_cmd("setpriv")

    def test_session_keyring_is_not_inherited(self):
        """The caller holds a key in its session keyring; keyctl is allowed (seccomp off), yet
        the sandbox cannot read it: it runs in a fresh session keyring of its own."""
        for mode in MODES:
            with self.subTest(mode=mode):
                p = self.run_mode(mode, [*UNCONFINED, "-e", "TB_KEY_ID", *al.probe_volume()],
                                  [al.PROBE_MOUNT + "/attack-session", "keyread"],
                                  prefix=[SESSION, "with-key"])
                if p.returncode == 77:
                    self.skipTest("no keyrings here: " + p.stderr.strip())
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertNotIn("s3cret", p.stdout)
                self.assertIn("key-errno", p.stdout)

    def test_kill0_stays_in_the_sandbox(self):
        """kill(0, SIGTERM) from the sandbox, with seccomp and Landlock's signal scope off: the
        caller's process group (tightbox and a host process beside it) is not reached."""
        for mode in MODES:
            with self.subTest(mode=mode):
                # A new session whose group holds a host process of the sandbox's uid (a root
                # one is out of reach of uid 65534 anyway) and then tightbox itself.
                victim_cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60"
                p = self.run_mode(mode, [*UNCONFINED, *al.probe_volume()],
                                  [al.PROBE_MOUNT + "/attack-session", "kill0"],
                                  prefix=["/bin/sh", "-c", victim_cmd + ' >/dev/null 2>&1 & echo "victim $!"; exec "$@"', "sh"],
                                  start_new_session=True)
                victim = int(p.stdout.split()[1])
                try:
                    state = process_state(victim)
                finally:
                    try:
                        os.kill(victim, 9)
                    except ProcessLookupError:
                        pass
                self.assertEqual(p.returncode, 0, "tightbox itself was signalled: %r" % p)
                self.assertIn("kill0 0 0", p.stdout)
                self.assertIn(state, ("S", "R"),
                              "the host process in the caller's group was killed (state %s)" % state)

    def test_kill_of_the_callers_group_id(self):
        """kill(-PGID) naming the caller's group: the id does not exist in the pid namespace."""
        victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
        try:
            for mode in MODES:
                with self.subTest(mode=mode):
                    p = self.run_mode(mode, [*UNCONFINED, *al.probe_volume()],
                                      [al.PROBE_MOUNT + "/attack-session", "killpg", str(victim.pid)])
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("killpg -1 3", p.stdout)  # ESRCH
                    self.assertIsNone(victim.poll())
        finally:
            victim.kill()
            victim.wait()


class TestVolumes(Modes):
    def setUp(self):
        super().setUp()
        self.vol = os.path.join(self.tmp, "vol")
        self.secret = os.path.join(self.tmp, "secret")
        os.mkdir(self.vol)
        os.chmod(self.vol, 0o777)
        os.mkdir(self.secret)
        with open(os.path.join(self.secret, "token"), "w") as f:
            f.write("host-secret\n")
        os.chmod(self.secret, 0o755)

    def plant(self, name, target):
        """A previous run, with the volume rw, leaves a symlink NAME -> TARGET (a host path)."""
        p = tbtest.tightbox("run", "--security-opt", "seccomp=unconfined", "-v", self.vol + ":/data:rw", "--", "/bin/ln", "-s", target,
                            "/data/" + name)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.islink(os.path.join(self.vol, name)))

    def test_symlinked_volume_source_is_refused(self):
        self.plant("link", self.secret)
        for mode in MODES:
            with self.subTest(mode=mode):
                p = self.run_mode(mode, ["-v", os.path.join(self.vol, "link") + ":/x:ro"],
                                  ["/bin/cat", "/x/token"])
                self.assertNotIn("host-secret", p.stdout)
                self.assertEqual(p.returncode, 125, p.stderr)
                self.assertIn("symbolic link", p.stderr)

    def test_symlinked_script_is_refused(self):
        self.plant("s.py", os.path.join(self.secret, "token"))
        for mode in MODES:
            with self.subTest(mode=mode):
                p = self.run_mode(mode, ["--script", os.path.join(self.vol, "s.py")],
                                  ["/bin/cat", "/sandbox/script.py"])
                self.assertNotIn("host-secret", p.stdout)
                self.assertEqual(p.returncode, 125, p.stderr)
                self.assertIn("symbolic link", p.stderr)

    def test_symlink_in_a_middle_component_is_refused(self):
        self.plant("dir", self.tmp)
        p = self.run_mode("run", ["-v", os.path.join(self.vol, "dir", "secret") + ":/x:ro"],
                          ["/bin/cat", "/x/token"])
        self.assertNotIn("host-secret", p.stdout)
        self.assertEqual(p.returncode, 125, p.stderr)

    def test_rw_volume_is_nosuid_nodev_noexec(self):
        res, _ = tbtest.run_json("-v", self.vol + ":/data:rw", "--", "/bin/cat", "/proc/self/mountinfo")
        line = [l for l in res["stdout"].splitlines() if l.split()[4] == "/data"]
        self.assertEqual(len(line), 1, res["stdout"])
        opts = line[0].split()[5].split(",")
        for flag in ("rw", "nosuid", "nodev", "noexec"):
            self.assertIn(flag, opts)

    def test_host_socket_in_ro_volume_unreachable(self):
        """A host unix socket (mode 0777) inside a read-only volume. No mount flag stops
        connect(); Landlock's RESOLVE_UNIX right (ABI 9) does, and the built-in ruleset grants it
        nowhere (the sandbox's own sockets are in its own domain)."""
        abi = int(subprocess.run([SESSION, "landlock-abi"], capture_output=True, text=True).stdout)
        if abi < 9:
            self.skipTest("Landlock ABI %d < 9: nothing in this kernel can stop connect() to a "
                          "socket file in a volume (docs/security.md)" % abi)
        path = os.path.join(self.vol, "host.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        os.chmod(path, 0o777)
        srv.listen(1)
        srv.settimeout(0.1)
        code = ("import socket,errno\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect('/ro/host.sock')"
                "\n print('connected')\nexcept OSError as e: print(errno.errorcode[e.errno])")
        try:
            for mode in MODES:
                with self.subTest(mode=mode):
                    p = self.run_mode(mode, ["--security-opt", "seccomp=unconfined", "-v",
                                             self.vol + ":/ro:ro"], [tbtest.PYTHON, "-c", code])
                    self.assertEqual(p.stdout.strip(), "EACCES", p.stderr)
                    with self.assertRaises(OSError):
                        srv.accept()
        finally:
            srv.close()


class TestExecDenied(Modes):
    def test_profile_denying_execve_is_reported(self):
        """A profile that denies everything (execve, write and exit_group included): the run is
        reported as 'the profile denies execve', exit 126 - not a crash inside libc."""
        prof = os.path.join(self.tmp, "deny.json")
        with open(prof, "w") as f:
            f.write('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}')
        res, p = tbtest.run_json("--security-opt", "seccomp=" + prof, "--", "/bin/true")
        self.assertEqual(p.returncode, 126, res)
        self.assertIsNone(res["signal"], res)
        self.assertIn("denies execve", res["error"])
        for mode in ("record-ptrace", "record-bpf", "explain"):
            with self.subTest(mode=mode):
                opts = ["--security-opt", "seccomp=" + prof]
                if mode.startswith("record"):
                    opts.append("--enforce")
                q = self.run_mode(mode, opts, ["/bin/true"])
                self.assertEqual(q.returncode, 126, q.stderr)
                self.assertIn("denies execve", q.stderr)

    def test_profile_denying_only_execve(self):
        prof = os.path.join(self.tmp, "noexec.json")
        with open(prof, "w") as f:
            f.write('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"], '
                    '"action": "SCMP_ACT_ERRNO", "errnoRet": 2}]}')
        res, p = tbtest.run_json("--security-opt", "seccomp=" + prof, "--", "/bin/true")
        self.assertEqual(p.returncode, 126, res)
        self.assertIn("denies execve", res["error"])

    def test_missing_command_is_still_127(self):
        res, p = tbtest.run_json("--", "/nonexistent-command")
        self.assertEqual(p.returncode, 127, res)
        self.assertNotIn("denies", res["error"])


if __name__ == "__main__":
    tbtest.main()
