"""Helpers shared by the attack tests: probes through a read-only volume, the default profile's
decision for a syscall, and host-side evidence (surviving processes, cgroups)."""
import errno
import json
import os
import time

import tbtest

PROBE_MOUNT = "/probes"
DEFAULT_PROFILE = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")


def probe_volume():
    """The -v flag that shows build/probes read-only (and executable) inside the sandbox."""
    return ["-v", "%s:%s:ro" % (tbtest.PROBES, PROBE_MOUNT)]


def need_probe(test, name):
    if not os.path.exists(tbtest.probe(name)):
        test.skipTest("probe %s not built" % name)


def run_probe(name, *args, opts=(), **kw):
    """Runs build/probes/NAME ARGS in the default sandbox (plus OPTS); returns the JSON result."""
    res, _ = tbtest.run_json(*probe_volume(), *opts, "--", os.path.join(PROBE_MOUNT, name), *args, **kw)
    return res


def parse_try(stdout):
    """attack-syscalls output -> {name: (ret, errno)}."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


class Profile:
    """What the default profile decides for a syscall name, read from the JSON itself so the
    tests hold for whatever correct profile the generator ships."""

    def __init__(self, path=DEFAULT_PROFILE):
        with open(path) as f:
            self.doc = json.load(f)
        default = self.doc.get("defaultAction", "SCMP_ACT_ERRNO")
        self.default_errno = None
        if default == "SCMP_ACT_ERRNO":
            self.default_errno = self.doc.get("defaultErrnoRet", errno.EPERM)
        self.rules = self.doc.get("syscalls", [])

    def rules_for(self, name):
        return [r for r in self.rules if name in r.get("names", [])]

    def decision(self, name):
        """("allow", None) unconditional allow; ("allow-args", None) allowed for some arguments
        only; ("errno", N) denied with errno N; ("kill", None) killed; ("default", N) unlisted."""
        rules = self.rules_for(name)
        uncond = [r for r in rules if not r.get("args") and not r.get("includes") and not r.get("excludes")]
        for r in uncond:
            act = r.get("action")
            if act == "SCMP_ACT_ALLOW":
                return ("allow", None)
            if act == "SCMP_ACT_ERRNO":
                return ("errno", r.get("errnoRet", errno.EPERM))
            if act in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"):
                return ("kill", None)
        if any(r.get("action") == "SCMP_ACT_ALLOW" for r in rules):
            return ("allow-args", None)
        return ("default", self.default_errno)


    OPS = {
        "SCMP_CMP_EQ": lambda a, v, w: a == v, "SCMP_CMP_NE": lambda a, v, w: a != v,
        "SCMP_CMP_LT": lambda a, v, w: a < v, "SCMP_CMP_LE": lambda a, v, w: a <= v,
        "SCMP_CMP_GT": lambda a, v, w: a > v, "SCMP_CMP_GE": lambda a, v, w: a >= v,
        "SCMP_CMP_MASKED_EQ": lambda a, v, w: (a & v) == w,
    }

    def evaluate(self, name, args):
        """The errno the profile gives NAME called with ARGS (a dict index -> 64-bit value), or
        None when it allows the call. Only rules without includes/excludes are considered; the
        generator's argument rules are disjoint, so at most one action applies."""
        matched = []
        for r in self.rules_for(name):
            if r.get("includes") or r.get("excludes"):
                continue
            conds = r.get("args") or []
            if all(self.OPS[c["op"]](args.get(c["index"], 0) & (2 ** 64 - 1), c["value"], c.get("valueTwo", 0))
                   for c in conds):
                matched.append(r)
        for r in matched:
            if r.get("action") == "SCMP_ACT_ERRNO":
                return r.get("errnoRet", errno.EPERM)
        if any(r.get("action") == "SCMP_ACT_ALLOW" for r in matched):
            return None
        return self.default_errno


def comm_survivors(marker):
    """Host pids with MARKER as a whole argument of their command line (the attacks pass a
    random marker as an argument; prctl(PR_SET_NAME) is not in a hardened profile). Zombies have
    an empty cmdline and are not counted: they hold no resources but a pid."""
    found = []
    want = marker.encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if want in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def wait_until(pred, limit=10.0, step=0.05):
    """Polls PRED until it is true or LIMIT seconds passed; returns its last value. Used only to
    let the kernel finish tearing things down, never to assert how long something took."""
    end = time.monotonic() + limit
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def run_cgroups():
    """Per-run cgroups of this test's tightbox processes still present (all parents)."""
    return tbtest.tightbox_cgroups()


class Run:
    """One finished `tightbox run --json`: result dict, exit status, tightbox's pid and rusage."""

    def __init__(self, res, rc, pid, rusage, stderr):
        self.res, self.rc, self.pid, self.rusage, self.stderr = res, rc, pid, rusage, stderr


def start(*args, env=None, pass_fds=()):
    import subprocess
    return subprocess.Popen([tbtest.TIGHTBOX, "run", "--json", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env if env is not None else os.environ.copy(),
                            pass_fds=pass_fds)


def finish(p, timeout=120):
    """Collects a start()ed run; the rusage is tightbox's own (wait4), for its peak RSS."""
    import threading
    bufs = {}

    def pump(name, f):
        bufs[name] = f.read()

    ts = [threading.Thread(target=pump, args=("out", p.stdout)),
          threading.Thread(target=pump, args=("err", p.stderr))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    try:
        res = json.loads(bufs.get("out", b""))
    except ValueError as e:
        raise AssertionError("no JSON from tightbox (rc=%d): %r / %r" %
                             (p.returncode, bufs.get("out", b"")[:300], bufs.get("err", b"")[:2000])) from e
    return Run(res, p.returncode, p.pid, ru, bufs.get("err", b""))


def run(*args, **kw):
    timeout = kw.pop("timeout", 120)
    return finish(start(*args, **kw), timeout)


def cgroups_of(pid):
    """Cgroups a tightbox process with pid PID created (they are named run-PID-N) and left."""
    return [c for c in tbtest.tightbox_cgroups() if os.path.basename(c).startswith("run-%d-" % pid)]
