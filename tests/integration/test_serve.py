#!/usr/bin/env python3
"""tightbox serve: auth, body and limit caps, the queue (429), cancel on disconnect, SIGTERM
draining, SIGHUP reloads, metrics, and attacks run through the server; the warm pool (--pool):
containment, no run seeing the one before, limits from the take, shutdown ending the pool.

Every test starts its own server on a socket in a fresh directory and stops it (and removes the
directory, socket and token file) in tearDown. Waits poll a condition with a bound; nothing here
asserts a duration.
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import tbtest

sys.path.insert(0, os.path.join(tbtest.SOURCE_DIR, "bindings", "python"))
import tightbox  # noqa: E402

TOKEN = "s3cret-token-for-tests-0123456789"


def wait_for(cond, what, limit=30.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def need_serve():
    tbtest.need_root()
    helper = os.path.join(os.path.dirname(tbtest.TIGHTBOX), "tightbox-serve")
    if not os.path.exists(helper):
        raise unittest.SkipTest("tightbox serve not built (libmicrohttpd missing)")


class Server:
    """One `tightbox serve` in its own directory."""

    def __init__(self, *args, token=True, listen=None):
        self.dir = tempfile.mkdtemp(prefix="tb-serve-test-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "s.sock")
        self.cgroup = "tb-serve-test-%d-%d" % (os.getpid(), id(self) % 100000)
        self.log_path = os.path.join(self.dir, "log")
        cmd = [tbtest.TIGHTBOX, "serve", "--state-dir", self.dir, "--cgroup-parent", self.cgroup]
        cmd += ["--listen", listen] if listen else ["--socket", self.sock]
        if token:
            self.token_file = os.path.join(self.dir, "token")
            with open(self.token_file, "w") as f:
                f.write(TOKEN + "\n")
            os.chmod(self.token_file, 0o600)
            cmd += ["--token-file", self.token_file]
        cmd += list(args)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.listen = listen
        try:
            wait_for(self._up, "the server to answer")
        except AssertionError:
            self.stop()
            raise

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited %s: %s" % (self.proc.returncode, self.logtext()))
        try:
            return self.request("GET", "/v1/health")[0] == 200
        except OSError:
            return False

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def conn(self, timeout=60):
        if self.listen:
            host, port = self.listen.rsplit(":", 1)
            return http.client.HTTPConnection(host, int(port), timeout=timeout)
        return UnixHTTP(self.sock, timeout)

    def request(self, method, path, body=None, token=TOKEN, headers=None, timeout=60):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def run(self, req, **kw):
        status, headers, data = self.request("POST", "/v1/run", json.dumps(req).encode(), **kw)
        return status, headers, json.loads(data) if data else None

    def health(self):
        return json.loads(self.request("GET", "/v1/health")[2])

    def metric(self, name):
        text = self.request("GET", "/metrics")[2].decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError("no metric %s in %s" % (name, text))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        wait_for(lambda: not tbtest.leftover_cgroups(self.cgroup), "the run cgroups to go")
        for d in tbtest.cgroup_parents(self.cgroup):
            try:
                os.rmdir(d)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServerCase(unittest.TestCase):
    server = None

    def start(self, *args, **kw):
        need_serve()
        self.server = Server(*args, **kw)
        return self.server

    def tearDown(self):
        if self.server:
            self.server.stop()
            self.assertFalse(os.path.exists(self.server.dir))


class ServeTest(ServerCase):
    def test_run_and_fields(self):
        s = self.start()
        status, _, res = s.run({"code": "import sys; print(open('a.txt').read(), sys.stdin.read())",
                                "files": {"a.txt": "file"}, "stdin": "input"})
        self.assertEqual(status, 200, res)
        self.assertEqual(res["stdout"], "file input\n")
        self.assertEqual(res["exit_code"], 0)
        self.assertEqual(res["limits"]["clamped"], [])
        status, _, res = s.run({"code": "raise SystemExit(3)"})
        self.assertEqual((status, res["exit_code"]), (200, 3))
        self.assertEqual(s.metric('tightbox_serve_runs_total{outcome="nonzero"}'), 1)
        self.assertEqual(s.metric('tightbox_serve_runs_total{outcome="ok"}'), 1)
        self.assertEqual(s.metric("tightbox_serve_run_duration_seconds_count"), 2)
        # "output": true returns what the code wrote to /sandbox/out; the client writes it out.
        status, _, res = s.run({"code": "import os; os.makedirs('out/d'); open('out/d/x.bin', 'wb').write(bytes(range(256)))",
                                "output": True})
        self.assertEqual(status, 200, res)
        self.assertEqual(base64.b64decode(res["output_files"]["d/x.bin"]), bytes(range(256)))
        self.assertEqual(res["output"]["files"], 1)
        dest = os.path.join(s.dir, "client-out")
        r = tightbox.Client(s.sock, token=TOKEN).run("open('out/r.txt', 'w').write('via client')",
                                                     output_dir=dest)
        with open(os.path.join(dest, "r.txt")) as f:
            self.assertEqual(f.read(), "via client")
        self.assertEqual(r.output["files"], 1)
        # Through the Python client too.
        r = tightbox.Client(s.sock, token=TOKEN).run("print(6 * 7)")
        self.assertEqual(r.stdout, "42\n")
        self.assertIsNotNone(r.limits)

    def test_auth_refused(self):
        s = self.start()
        for tok in (None, "wrong", TOKEN[:-1], TOKEN + "x"):
            status, headers, _ = s.run({"code": "print(1)"}, token=tok)
            self.assertEqual(status, 401, tok)
            self.assertEqual(headers.get("WWW-Authenticate"), "Bearer")
        with self.assertRaises(tightbox.AuthError):
            tightbox.Client(s.sock, token="wrong").run("print(1)")
        self.assertEqual(s.run({"code": "print(1)"})[0], 200)
        self.assertEqual(s.metric('tightbox_serve_runs_total{outcome="ok"}'), 1)

    def refused_at_start(self, d, token_mode, state_dir, message):
        """`tightbox serve` with a token file of @token_mode in @d exits 1 naming @message and
        never creates its socket."""
        tok = os.path.join(d, "token")
        with open(tok, "w") as f:
            f.write(TOKEN)
        os.chmod(tok, token_mode)
        p = tbtest.tightbox("serve", "--socket", os.path.join(d, "s"), "--token-file", tok,
                            "--state-dir", state_dir, timeout=30)
        self.assertEqual(p.returncode, 1, state_dir)
        self.assertIn(message, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "s")))

    def test_token_file_readable_by_others_refused(self):
        need_serve()
        d = tempfile.mkdtemp(prefix="tb-serve-test-")
        try:
            self.refused_at_start(d, 0o644, d, b"readable or writable by others")
        finally:
            shutil.rmtree(d)

    def test_unusable_state_dir_refused_at_start(self):
        # A missing parent or a file where the folder should be fails at start-up (exit 1, the
        # flag named), not with a 500 for every request afterwards.
        need_serve()
        d = tempfile.mkdtemp(prefix="tb-serve-test-")
        try:
            afile = os.path.join(d, "afile")
            open(afile, "w").close()
            for state in (os.path.join(d, "missing", "deeper"), afile):
                self.refused_at_start(d, 0o600, state, b"--state-dir " + state.encode())
        finally:
            shutil.rmtree(d)

    def test_body_too_large(self):
        s = self.start("--max-body", "4k")
        big = json.dumps({"code": "#" * 8000}).encode()
        status, _, data = s.request("POST", "/v1/run", big)
        self.assertEqual(status, 413, data)
        # Chunked (no Content-Length): refused once the body passes the cap.
        c = s.conn()
        c.putrequest("POST", "/v1/run")
        c.putheader("Authorization", "Bearer " + TOKEN)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for _ in range(4):
            c.send(b"800\r\n" + b"#" * 0x800 + b"\r\n")
        c.send(b"0\r\n\r\n")
        self.assertEqual(c.getresponse().status, 413)
        c.close()
        with self.assertRaises(tightbox.RequestTooLarge):
            tightbox.Client(s.sock, token=TOKEN).run("#" * 8000)
        self.assertEqual(s.run({"code": "print(1)"})[0], 200)

    def test_bad_requests(self):
        s = self.start()
        for body, field in ((b"{", "invalid JSON"), (b"[]", "object"), (b'{"cod": "1"}', "unknown field"),
                            (b'{"code": 1}', "code"), (b'{"code": "1", "memory": "10q"}', "memory"),
                            (b'{"code": "1", "files": {"../x": "a"}}', "files"),
                            (b'{"code": "1", "timeout": 1, "timeout": 100}', "duplicate"),
                            (b'{"code": "1", "profile": "nope"}', "unknown profile")):
            status, _, data = s.request("POST", "/v1/run", body)
            self.assertEqual(status, 400, body)
            self.assertIn(field, json.loads(data)["error"], body)
        self.assertEqual(s.request("GET", "/v1/run")[0], 405)
        self.assertEqual(s.request("GET", "/nope")[0], 404)
        with self.assertRaises(tightbox.ProfileError):
            tightbox.Client(s.sock, token=TOKEN).run("1", profile="nope")

    def test_limits_clamped(self):
        s = self.start("--max-memory", "64m", "--max-timeout", "2", "--max-pids", "16",
                       "--max-stdout", "100")
        status, _, res = s.run({"code": "print('x' * 1000)", "memory": "1g", "timeout": 100,
                                "pids_limit": 1000, "stdout_limit": 100000})
        self.assertEqual(status, 200, res)
        lim = res["limits"]
        self.assertEqual((lim["memory"], lim["timeout"], lim["pids_limit"], lim["stdout_limit"]),
                         (64 << 20, 2.0, 16, 100))
        self.assertEqual(sorted(lim["clamped"]), ["memory", "pids_limit", "stdout_limit", "timeout"])
        self.assertEqual(res["stdout_omitted"], 1001 - 100)  # the first and last 50 bytes kept
        self.assertTrue(res["stdout_truncated"])
        # The clamped limits are the ones enforced.
        status, _, res = s.run({"code": "x = bytearray(200 << 20)", "memory": "1g"})
        self.assertEqual(status, 200, res)
        self.assertTrue(res["oom_killed"] or res["exit_code"] == 1, res)
        if res["exit_code"] == 1:
            self.assertIn("MemoryError", res["stderr"])
        status, _, res = s.run({"code": "import time; time.sleep(30)", "timeout": 100})
        self.assertTrue(res["timed_out"], res)
        # A smaller request is kept as asked.
        status, _, res = s.run({"code": "pass", "memory": "32m", "timeout": 1})
        self.assertEqual((res["limits"]["memory"], res["limits"]["clamped"]), (32 << 20, []))

    def test_overflow_429(self):
        s = self.start("--workers", "1", "--queue", "1")
        results = []

        def slow():
            results.append(s.run({"code": "import time; time.sleep(2); print('slow')"}))

        threads = [threading.Thread(target=slow) for _ in range(2)]
        threads[0].start()
        wait_for(lambda: s.health()["running"] == 1, "the first run to start")
        threads[1].start()
        wait_for(lambda: s.health()["queued"] == 1, "the second run to queue")
        status, headers, res = s.run({"code": "print(1)"})
        self.assertEqual(status, 429, res)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        with self.assertRaises(tightbox.Overloaded) as cm:
            tightbox.Client(s.sock, token=TOKEN).run("print(1)")
        self.assertGreaterEqual(cm.exception.retry_after, 1)
        for t in threads:
            t.join()
        self.assertEqual([(st, r["stdout"]) for st, _, r in results], [(200, "slow\n")] * 2)
        self.assertEqual(s.metric('tightbox_serve_runs_total{outcome="rejected"}'), 2)
        self.assertEqual(s.metric("tightbox_serve_queue_depth"), 0)

    def _start_raw(self, s, code):
        body = json.dumps({"code": code}).encode()
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sk.connect(s.sock)
        sk.sendall(b"POST /v1/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (TOKEN.encode(), len(body), body))
        return sk

    def test_cancelled_run_killed(self):
        s = self.start()
        sk = self._start_raw(s, "import os, time\nfor _ in range(3): os.fork()\ntime.sleep(60)")
        wait_for(lambda: tbtest.leftover_cgroups(s.cgroup), "the run's cgroup")
        wait_for(lambda: s.health()["running"] == 1, "the run to be counted")
        sk.close()
        # Its sandbox (all 8 processes) dies and its cgroups go, long before the sleep ends.
        wait_for(lambda: not tbtest.leftover_cgroups(s.cgroup), "the cancelled run's cgroups to go")
        wait_for(lambda: s.metric('tightbox_serve_runs_total{outcome="cancelled"}') == 1,
                 "the cancel to be counted")
        self.assertEqual(s.health()["running"], 0)
        self.assertIn("cancelled", s.logtext())
        self.assertEqual(s.run({"code": "print(1)"})[0], 200)

    def test_cancel_while_queued(self):
        s = self.start("--workers", "1", "--queue", "2")
        first = self._start_raw(s, "import time; time.sleep(60)")
        wait_for(lambda: s.health()["running"] == 1, "the first run")
        second = self._start_raw(s, "print('never')")
        wait_for(lambda: s.health()["queued"] == 1, "the second to queue")
        second.close()
        wait_for(lambda: s.health()["queued"] == 0, "the queued request to leave")
        first.close()
        wait_for(lambda: s.health()["running"] == 0, "the first run to be killed")
        wait_for(lambda: s.metric('tightbox_serve_runs_total{outcome="cancelled"}') == 2,
                 "both cancels to be counted")

    def test_sigterm_drains(self):
        s = self.start()
        out = []
        t = threading.Thread(target=lambda: out.append(
            s.run({"code": "import time; time.sleep(1.5); print('done')"})))
        t.start()
        wait_for(lambda: s.health()["running"] == 1, "the run to start")
        s.proc.send_signal(signal.SIGTERM)
        # No new connections: the socket goes away at once ...
        wait_for(lambda: not os.path.exists(s.sock), "the socket to be removed")
        with self.assertRaises(OSError):
            s.request("GET", "/v1/health")
        # ... and the run in flight still completes, then the server exits 0.
        t.join()
        self.assertEqual(out[0][0], 200)
        self.assertEqual(out[0][2]["stdout"], "done\n")
        self.assertEqual(s.proc.wait(timeout=60), 0)
        self.assertIn("draining: 1 running", s.logtext())

    def test_sighup_reloads_profiles(self):
        need_serve()
        pdir = tempfile.mkdtemp(prefix="tb-serve-profiles-")
        try:
            default = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
            shutil.copy(default, os.path.join(pdir, "one.json"))
            s = self.start("--profile-dir", pdir)
            self.assertEqual(s.run({"code": "print(1)", "profile": "one"})[0], 200)
            self.assertEqual(s.run({"code": "print(1)", "profile": "two"})[0], 400)
            # A profile that denies getpid with EPERM: the name works after SIGHUP.
            with open(default) as f:
                prof = json.load(f)
            prof["syscalls"].insert(0, {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
            with open(os.path.join(pdir, "two.json"), "w") as f:
                json.dump(prof, f)
            s.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: s.run({"code": "1", "profile": "two"})[0] == 200, "the reload")
            status, _, res = s.run({"code": "import os; print(os.getppid())", "profile": "two"})
            self.assertEqual(res["stdout"], "-1\n", res)
            # A malformed profile fails the reload; the old snapshot stays.
            with open(os.path.join(pdir, "three.json"), "w") as f:
                f.write('{"defaultAction": ')
            s.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "keeping the old profiles" in s.logtext(), "the failed reload")
            self.assertEqual(s.run({"code": "1", "profile": "two"})[0], 200)
            self.assertEqual(s.run({"code": "1", "profile": "three"})[0], 400)
        finally:
            shutil.rmtree(pdir)

    # What a warm sandbox held before the request: the request socket (now /dev/null), the
    # phase-2 program (closed); and what the code may still do with seccomp (PR_SET_SECCOMP 22,
    # SECCOMP_MODE_FILTER 2): the same as a cold run.
    PROBES = {
        "fds and filters": ("import os\nprint(sorted(os.listdir('/proc/self/fd')), "
                            "os.path.realpath('/proc/self/fd/0'), os.read(0, 10))\n"
                            "print([l for l in open('/proc/self/status') "
                            "if l.startswith(('Seccomp:', 'NoNewPrivs', 'CapEff'))])"),
        "stack seccomp": ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                          "print(libc.prctl(22, 2, 0), ctypes.get_errno())"),
    }

    def attacks(self, s, port, warm):
        """The attacks run through @s (POST /v1/run), each in a warm sandbox when @warm."""
        attacks = {
            "fork bomb": ("import os\nn = 0\ntry:\n    while True:\n        os.fork(); n += 1\n"
                          "except OSError as e:\n    print('stopped', e.errno)\n"),
            "shadow": "print(open('/etc/shadow').read())",
            "network": ("import socket\ns = socket.socket()\ns.settimeout(2)\n"
                        "s.connect(('127.0.0.1', %d))\nprint('connected')" % port),
            "kill -1": "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('after')",
            "server socket": "import os\nprint(os.path.exists(%r))" % s.dir,
            **self.PROBES,
        }
        res = {}
        for name, code in attacks.items():
            if warm:
                wait_for(lambda: s.health()["pool_ready"] >= 1, "a ready sandbox", 120)
            status, _, r = s.run({"code": code})
            self.assertEqual(status, 200, (name, r))
            self.assertEqual(r["warm"], warm, (name, r))
            res[name] = r
        self.assertIn("stopped", res["fork bomb"]["stdout"])
        self.assertIn("PermissionError", res["shadow"]["stderr"])
        self.assertIn("ConnectionRefusedError", res["network"]["stderr"])
        self.assertNotIn("connected", res["network"]["stdout"])
        self.assertEqual(res["server socket"]["stdout"], "False\n")
        fds, filters = res["fds and filters"]["stdout"].splitlines()
        self.assertEqual(fds, "['0', '1', '2', '3'] /dev/null b''", res["fds and filters"])
        self.assertIn("Seccomp:\\t2", filters)
        self.assertIn("NoNewPrivs:\\t1", filters)
        self.assertIn("CapEff:\\t0000000000000000", filters)
        # kill(-1) reaches only the sandbox's own processes: the server is still here.
        self.assertEqual(s.health()["status"], "ok")
        self.assertIsNone(s.proc.poll())
        self.assertEqual(s.run({"code": "print('alive')"})[2]["stdout"], "alive\n")
        return res

    def test_attacks_contained(self):
        port = free_port()
        s = self.start(listen="127.0.0.1:%d" % port)
        self.attacks(s, port, warm=False)
        # The Python client over TCP.
        r = tightbox.Client("http://127.0.0.1:%d" % port, token=TOKEN).run("print('tcp')")
        self.assertEqual(r.stdout, "tcp\n")

    def test_attacks_contained_warm(self):
        """The warm path contains the code as the cold one does (the same attacks, the same
        answers), and a request that names a profile runs cold."""
        port = free_port()
        pdir = tempfile.mkdtemp(prefix="tb-serve-profiles-")
        try:
            shutil.copy(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json"),
                        os.path.join(pdir, "named.json"))
            s = self.start("--pool", "2", "--preload", "json", "--profile-dir", pdir,
                           listen="127.0.0.1:%d" % port)
            warm = self.attacks(s, port, warm=True)
            wait_for(lambda: s.health()["pool_ready"] >= 1, "a ready sandbox", 120)
            r = tightbox.Client("http://127.0.0.1:%d" % port, token=TOKEN).run("print('tcp')")
            self.assertEqual((r.stdout, r.warm, r.extra), ("tcp\n", True, {}))
            # The same probes cold (a named profile, the same rules): the same answers.
            for name in ("fds and filters", "stack seccomp"):
                status, _, r = s.run({"code": self.PROBES[name], "profile": "named"})
                self.assertEqual((status, r["warm"]), (200, False), r)
                self.assertEqual(r["stdout"], warm[name]["stdout"], name)
        finally:
            shutil.rmtree(pdir)


class WarmPoolTest(ServerCase):
    """`tightbox serve --pool`: sandboxes made and preloaded before the request, one per request."""

    def pool(self, *args):
        s = self.start("--pool", "2", "--workers", "1", *args)
        wait_for(lambda: s.health()["pool_ready"] == 2, "the pool to fill", 120)
        return s

    def warm_run(self, s, req):
        wait_for(lambda: s.health()["pool_ready"] >= 1, "a ready sandbox", 120)
        status, _, r = s.run(req)
        self.assertEqual(status, 200, r)
        self.assertTrue(r["warm"], r)
        return r

    def test_no_run_sees_the_one_before(self):
        s = self.pool("--preload", "json,decimal")
        first = self.warm_run(s, {"env": {"SECRET": "one"}, "memory": "200m", "pids_limit": 40,
                                  "code": (
            "import decimal, json, os, subprocess, sys, time\n"
            "for p in ('/tmp/mark', '/dev/shm/mark', '/sandbox/mark'):\n"
            "    open(p, 'w').write('run 1')\n"
            "decimal.tb_mark = json.tb_mark = sys.tb_mark = 1\n"
            "os.environ['LEAK'] = '1'\n"
            "hold = bytearray(150 << 20)\n"
            "kids = [subprocess.Popen(['sleep', '60']) for _ in range(20)]\n"
            "t = time.process_time()\n"
            "while time.process_time() - t < 0.4:\n"
            "    pass\n"
            "print(os.environ.get('SECRET'), len([p for p in os.listdir('/proc') if p.isdigit()]))\n")})
        self.assertEqual(first["stdout"], "one 21\n", first)
        second = self.warm_run(s, {"memory": "200m", "pids_limit": 40, "code": (
            "import decimal, json, os, subprocess, sys\n"
            "print([os.path.exists(p) for p in ('/tmp/mark', '/dev/shm/mark', '/sandbox/mark')])\n"
            "print([hasattr(m, 'tb_mark') for m in (decimal, json, sys)])\n"
            "print(os.environ.get('SECRET'), os.environ.get('LEAK'))\n"
            "print([p for p in os.listdir('/proc') if p.isdigit()])\n"
            "hold = bytearray(150 << 20)\n"
            "kids = [subprocess.Popen(['true']) for _ in range(20)]\n"
            "print(sum(k.wait() == 0 for k in kids))\n")})
        self.assertEqual(second["stdout"].splitlines(), [
            "[False, False, False]",       # /tmp, /dev/shm, the working directory
            "[False, False, False]",       # module attributes set by run 1
            "None None",                   # its env, and what it put into os.environ
            "['1']",                       # no process of run 1 (its sleeps died with it)
            "20"], second)                 # memory and pids counters start from zero
        self.assertFalse(second["oom_killed"])
        # CPU time counts from the take: run 1 spun 0.4 s, run 2 (no spinning) does not carry it.
        self.assertGreaterEqual(first["cpu_ms"], 300)
        self.assertLess(second["cpu_ms"], first["cpu_ms"])

    def test_limits_from_the_take(self):
        s = self.pool()
        # Idle longer than the request's timeout: the clock starts when the request takes it.
        time.sleep(2.5)
        r = self.warm_run(s, {"code": "print('in time')", "timeout": 2})
        self.assertEqual((r["stdout"], r["timed_out"]), ("in time\n", False))
        r = self.warm_run(s, {"code": "while True: pass", "timeout": 1})
        self.assertTrue(r["timed_out"], r)
        r = self.warm_run(s, {"code": "print('x' * 100)", "stdout_limit": 10})
        self.assertEqual((r["stdout_bytes"], r["stdout_truncated"]), (101, True))
        r = self.warm_run(s, {"code": "b = bytearray(100 << 20)\nprint('kept')", "memory": "50m"})
        self.assertTrue(r["oom_killed"] or r["exit_code"] != 0, r)
        self.assertNotIn("kept", r["stdout"])
        r = self.warm_run(s, {"code": "import sys\nprint(sys.stdin.read(), sys.argv)\n"
                                      "open('out/r.txt', 'w').write('made')\nsys.exit(3)",
                              "stdin": "from stdin", "files": {"a.txt": "A"}, "output": True})
        self.assertEqual(r["exit_code"], 3, r)
        self.assertEqual(r["stdout"], "from stdin ['/sandbox/script.py']\n")
        self.assertEqual(base64.b64decode(r["output_files"]["r.txt"]), b"made")
        r = self.warm_run(s, {"code": "print(open('a.txt').read())\nraise ValueError('boom')",
                              "files": {"a.txt": "A"}})
        self.assertEqual(r["exit_code"], 1)
        self.assertEqual(r["stdout"], "A\n")
        self.assertIn('File "/sandbox/script.py", line 2', r["stderr"])
        self.assertIn("ValueError: boom", r["stderr"])
        self.assertIsNone(r["output"])
        # The end of a warm run does what CPython's exit does: threads joined, atexit, flushes.
        r = self.warm_run(s, {"code": "import atexit, sys, threading, time\n"
                                      "atexit.register(lambda: print('atexit'))\n"
                                      "threading.Thread(target=lambda: (time.sleep(0.3), "
                                      "print('thread'))).start()\n"
                                      "print('main', end='\\n')\nsys.exit('bye')"})
        self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]), ("main\nthread\natexit\n", "bye\n", 1))
        r = self.warm_run(s, {"code": "raise KeyboardInterrupt"})
        self.assertEqual(r["exit_code"], 130, r)
        self.assertIn("KeyboardInterrupt", r["stderr"])
        self.assertEqual(s.metric("tightbox_serve_warm_runs_total"), 8)
        self.assertEqual(s.metric("tightbox_serve_pool_size"), 2)

    def test_refill_waits_for_the_cgroup_limit(self):
        """The pool refills only while the cgroup the runs are made under has the default memory
        limit (256m) to give: a container's or a pod's limit counts, not just MemAvailable."""
        need_serve()
        cg = "tb-serve-test-%d-mem" % os.getpid()
        if os.path.isfile("/sys/fs/cgroup/cgroup.controllers"):
            parent, limit = os.path.join("/sys/fs/cgroup", cg), "memory.max"
            with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
                f.write("+memory")
        else:
            parent, limit = os.path.join("/sys/fs/cgroup/memory", cg), "memory.limit_in_bytes"
        os.makedirs(parent, exist_ok=True)
        self.addCleanup(lambda: [os.rmdir(d) for d in tbtest.cgroup_parents(cg) if os.path.isdir(d)])
        with open(os.path.join(parent, limit), "w") as f:
            f.write(str(200 << 20))
        s = self.start("--pool", "1", "--workers", "1", "--cgroup-parent", cg)
        wait_for(lambda: s.health()["pool_ready"] == 1, "the first sandbox", 120)
        self.warm_run(s, {"code": "print(1)"})
        time.sleep(3)  # a refill, if the limit were ignored, starts within a second
        self.assertEqual(s.health()["pool_ready"], 0)
        self.assertIsNone(s.proc.poll())
        with open(os.path.join(parent, limit), "w") as f:
            f.write(str(1 << 30))
        wait_for(lambda: s.health()["pool_ready"] == 1, "the refill once there is room", 120)

    def test_shutdown_ends_the_pool(self):
        s = self.pool()
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and self.child_of(p, s.proc.pid)]
        self.assertEqual(len(pids), 2, pids)  # the two tightbox run --warm of the pool
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.proc.wait(timeout=60), 0, s.logtext())
        for pid in pids:
            self.assertFalse(os.path.exists("/proc/%d" % pid), pid)
        self.assertEqual([e for e in os.listdir(s.dir) if e.startswith("warm-")], [])
        wait_for(lambda: not tbtest.leftover_cgroups(s.cgroup), "the pool's cgroups to go")

    @staticmethod
    def child_of(pid, parent):
        try:
            with open("/proc/%s/stat" % pid) as f:
                return int(f.read().rsplit(")", 1)[1].split()[1]) == parent
        except (OSError, IndexError, ValueError):
            return False

    def test_bad_preload_refused_at_start(self):
        need_serve()
        d = tempfile.mkdtemp(prefix="tb-serve-test-")
        try:
            p = tbtest.tightbox("serve", "--socket", os.path.join(d, "s"), "--state-dir", d,
                                "--cgroup-parent", "tb-serve-test-%d" % os.getpid(),
                                "--pool", "1", "--preload", "no_such_module_tb")
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("no_such_module_tb", p.stderr.decode())
            self.assertEqual(os.listdir(d), [])
            p = tbtest.tightbox("serve", "--socket", os.path.join(d, "s"), "--preload", "json")
            self.assertEqual(p.returncode, 2, p)
            self.assertIn("--pool", p.stderr.decode())
        finally:
            for c in tbtest.cgroup_parents("tb-serve-test-%d" % os.getpid()):
                try:
                    os.rmdir(c)
                except OSError:
                    pass
            shutil.rmtree(d)


class NamedPoolTest(ServerCase):
    """`tightbox serve --pool-profile NAME=N[:MODULES]`: warm sandboxes for a named profile, whose
    start-up, preloads and request all run under that profile; a reload that changes or removes
    the profile ends the sandboxes made for its old text."""

    def profile_dir(self, deny):
        pdir = tempfile.mkdtemp(prefix="tb-serve-profiles-")
        self.addCleanup(shutil.rmtree, pdir)
        self.write_profile(pdir, deny)
        return pdir

    @staticmethod
    def write_profile(pdir, deny):
        with open(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")) as f:
            prof = json.load(f)
        prof["syscalls"].insert(0, {"names": [deny], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
        tmp = os.path.join(pdir, ".strict.tmp")
        with open(tmp, "w") as f:
            json.dump(prof, f)
        os.rename(tmp, os.path.join(pdir, "strict.json"))

    def ready(self, s, n=1):
        wait_for(lambda: s.health()["pools"]["strict"]["ready"] >= n, "a ready strict sandbox", 120)

    # Raw syscalls through libc (no errno for these two): -1 when the profile denies them (EPERM),
    # else getppid is 0 (pid 1's parent is outside the pid namespace) and getuid 65534.
    CODE = "import ctypes, sys\nlibc = ctypes.CDLL(None)\nprint(libc.getppid(), libc.getuid(), 'decimal' in sys.modules)\n"

    def test_named_pool_runs_under_its_profile(self):
        pdir = self.profile_dir("getppid")
        s = self.start("--profile-dir", pdir, "--pool-profile", "strict=1:decimal", "--workers", "1")
        self.ready(s)
        h = s.health()
        self.assertEqual((h["pool"], h["pool_ready"], h["pools"]["strict"]["size"]), (0, 0, 1), h)
        status, _, r = s.run({"code": self.CODE, "profile": "strict"})
        self.assertEqual((status, r["warm"]), (200, True), r)
        # getppid fails with EPERM from the profile; the preload is imported.
        self.assertEqual(r["stdout"], "-1 65534 True\n", r)
        # The default profile has no pool here: cold, and getppid works.
        status, _, r = s.run({"code": self.CODE})
        self.assertEqual((status, r["warm"], r["stdout"]), (200, False, "0 65534 False\n"), r)
        self.assertEqual(s.metric("tightbox_serve_pool_size"), 1)
        self.ready(s)
        self.assertEqual(s.metric("tightbox_serve_warm_runs_total"), 1)

    def test_reload_ends_sandboxes_of_the_old_text(self):
        pdir = self.profile_dir("getppid")
        s = self.start("--profile-dir", pdir, "--pool-profile", "strict=1", "--workers", "1")
        self.ready(s)
        self.write_profile(pdir, "getuid")
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in s.logtext(), "the reload")
        # Whether this one is warm or cold, it runs under the new text: getuid denied, getppid not.
        status, _, r = s.run({"code": self.CODE, "profile": "strict"})
        self.assertEqual((status, r["stdout"]), (200, "0 -1 False\n"), r)
        self.ready(s)
        status, _, r = s.run({"code": self.CODE, "profile": "strict"})
        self.assertEqual((status, r["warm"], r["stdout"]), (200, True, "0 -1 False\n"), r)
        # The profile removed: its pool stops, its idle sandbox is ended, the name is unknown.
        self.ready(s)
        os.unlink(os.path.join(pdir, "strict.json"))
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "its warm pool stops" in s.logtext(), "the reload")
        wait_for(lambda: s.health()["pools"]["strict"] == {"size": 0, "ready": 0}, "the pool to stop")
        self.assertEqual(s.run({"code": "1", "profile": "strict"})[0], 400)
        # The ended sandbox's teardown (its run directory removed) finishes after the pool's
        # count drops: wait for it, bounded.
        wait_for(lambda: not [e for e in os.listdir(s.dir) if e.startswith("warm-")],
                 "the ended sandbox's directory to go")
        # Brought back: the pool starts again.
        self.write_profile(pdir, "getppid")
        s.proc.send_signal(signal.SIGHUP)
        self.ready(s)
        status, _, r = s.run({"code": self.CODE, "profile": "strict"})
        self.assertEqual((status, r["warm"], r["stdout"]), (200, True, "-1 65534 False\n"), r)

    def test_refused_at_start(self):
        need_serve()
        d = tempfile.mkdtemp(prefix="tb-serve-test-")
        cg = "tb-serve-test-%d" % os.getpid()
        pdir = self.profile_dir("getppid")
        # A profile that cannot host the interpreter's start-up: every openat fails.
        with open(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")) as f:
            prof = json.load(f)
        prof["syscalls"].insert(0, {"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
        with open(os.path.join(pdir, "noopen.json"), "w") as f:
            json.dump(prof, f)
        base = ["serve", "--socket", os.path.join(d, "s"), "--state-dir", d, "--cgroup-parent", cg]
        try:
            for args, code, words in [
                    (["--profile-dir", pdir, "--pool-profile", "nosuch=1"], 1, "no profile 'nosuch'"),
                    (["--profile-dir", pdir, "--pool-profile", "noopen=1"], 1, "of profile noopen did not start"),
                    (["--profile-dir", pdir, "--pool-profile", "strict=1", "--pool-profile", "strict=2"], 1,
                     "given twice"),
                    (["--profile-dir", pdir, "--pool-profile", "strict=0"], 2, "--pool-profile"),
                    (["--profile-dir", pdir, "--pool-profile", "strict"], 2, "NAME=N[:MODULES]"),
                    (["--profile-dir", pdir, "--pool-profile", "strict=1:"], 2, "empty MODULES"),
                    (["--pool-profile", "strict=1"], 2, "needs --profile-dir"),
                    (["--profile-dir", pdir, "--pool-profile", "strict=1:no_such_module_tb"], 1,
                     "no_such_module_tb")]:
                p = tbtest.tightbox(*(base + args))
                self.assertEqual(p.returncode, code, (args, p))
                self.assertIn(words, p.stderr.decode(), args)
                self.assertEqual(os.listdir(d), [], args)
        finally:
            for c in tbtest.cgroup_parents(cg):
                try:
                    os.rmdir(c)
                except OSError:
                    pass
            shutil.rmtree(d)


class DeployFiles(unittest.TestCase):
    """deploy/: the systemd unit and the Kubernetes manifests agree with the server and each other.

    `kubectl create --dry-run=client` needs an API server for discovery, so it cannot check these
    offline; a kubectl that is installed parses them (`label --local`), and the structure is
    checked here with PyYAML (Debian's python3-yaml).
    """

    def setUp(self):
        try:
            import yaml
        except ImportError:
            raise unittest.SkipTest("python3-yaml is not installed")
        self.dir = os.path.join(tbtest.SOURCE_DIR, "deploy")
        with open(os.path.join(self.dir, "kubernetes", "tightbox-serve.yaml")) as f:
            self.docs = {d["kind"]: d for d in yaml.safe_load_all(f)}
        with open(os.path.join(self.dir, "systemd", "tightbox-serve.service")) as f:
            self.unit = f.read()

    def serve_flags(self):
        need_serve()
        return set(re.findall(r"--[a-z-]+", tbtest.tightbox("serve", "--help").stdout.decode()))

    def test_manifests(self):
        d = self.docs
        self.assertEqual(sorted(d), ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                                     "Secret", "Service"])
        dep = d["Deployment"]
        labels = dep["spec"]["selector"]["matchLabels"]
        pod = dep["spec"]["template"]
        self.assertEqual(pod["metadata"]["labels"], labels)
        self.assertEqual(d["Service"]["spec"]["selector"], labels)
        self.assertEqual(d["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"], labels)
        self.assertEqual(d["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"],
                         dep["metadata"]["name"])
        (c,) = pod["spec"]["containers"]
        # The AppArmor annotation names this container; seccomp is the generated Localhost profile.
        self.assertIn("container.apparmor.security.beta.kubernetes.io/" + c["name"], pod["metadata"]["annotations"])
        sp = pod["spec"]["securityContext"]["seccompProfile"]
        self.assertEqual((sp["type"], sp["localhostProfile"]), ("Localhost", "tightbox/serve.json"))
        self.assertTrue(os.path.exists(os.path.join(self.dir, "kubernetes", "seccomp", "tightbox-serve.json")))
        # The capabilities are the systemd unit's set.
        caps = c["securityContext"]["capabilities"]
        unit_caps = re.search(r"^CapabilityBoundingSet=(.*)$", self.unit, re.M).group(1).split()
        self.assertEqual(caps["drop"], ["ALL"])
        self.assertEqual(sorted("CAP_" + x for x in caps["add"]), sorted(unit_caps))
        # Every flag is one the server knows; the grace period covers the drain.
        args = c["args"]
        self.assertEqual(args[0], "serve")
        self.assertLessEqual({a for a in args if a.startswith("--")}, self.serve_flags())
        drain = float(args[args.index("--drain-timeout") + 1])
        self.assertGreater(pod["spec"]["terminationGracePeriodSeconds"], drain)
        # The HPA metric is one the server exports.
        metric = d["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["pods"]["metric"]["name"]
        with open(os.path.join(tbtest.SOURCE_DIR, "serve", "metrics.c")) as f:
            self.assertIn(metric + " ", f.read())
        port = c["ports"][0]["containerPort"]
        self.assertEqual(args[args.index("--listen") + 1], "0.0.0.0:%d" % port)
        if shutil.which("kubectl"):
            p = subprocess.run(["kubectl", "label", "--local", "-o", "name", "-f",
                                os.path.join(self.dir, "kubernetes", "tightbox-serve.yaml"), "checked=1"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(len(p.stdout.split()), 5)

    def test_seccomp_profile_loads_and_apparmor_compiles(self):
        prof = os.path.join(self.dir, "kubernetes", "seccomp", "tightbox-serve.json")
        p = tbtest.tightbox("audit", prof, "--fail-on", "high")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertIn(b"syscalls allowed", p.stdout + p.stderr)
        if shutil.which("apparmor_parser"):
            p = subprocess.run(["apparmor_parser", "-Q", "-K",
                                os.path.join(self.dir, "kubernetes", "apparmor", "tightbox-serve")],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_systemd_unit(self):
        flags = re.findall(r"--[a-z-]+", re.search(r"^ExecStart=((?:.*\\\n)*.*)$", self.unit, re.M).group(1))
        self.assertLessEqual(set(flags), self.serve_flags())
        for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "KillMode=mixed",
                          "ExecReload=/bin/kill -HUP $MAINPID", "SystemCallArchitectures=native"):
            self.assertIn(directive, self.unit)
        if shutil.which("systemd-analyze"):
            p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                os.path.join(self.dir, "systemd", "tightbox-serve.service")],
                               capture_output=True, text=True, timeout=60)
            # Only the binary's absence (not installed here) may be reported.
            errors = [l for l in p.stderr.splitlines() if l.strip() and "is not executable" not in l]
            self.assertEqual(errors, [])


if __name__ == "__main__":
    tbtest.main()
