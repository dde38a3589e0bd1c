"""Private container engines for the engine tests: Debian's dockerd and containerd, each started
with its own data folder, state folder and unix socket, and stopped by pid with its folder removed
(even when a test fails). Nothing here touches the host's /var/lib/docker or /run/containerd
configuration; both daemons run without networking (--bridge=none, no CNI) and put their
containers' cgroups under a parent of their own, which is removed at the end.

Shared with the tests: the seed's `docker run` line, the corpus, the base image tarballs
(scripts/build-image --engine none|docker, one debootstrap cache for every engine).
"""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import tbtest

SCRIPTS = os.path.join(tbtest.SOURCE_DIR, "scripts")
WORKLOADS = os.path.join(SCRIPTS, "workloads")
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # Debian's client (another docker CLI may come first on PATH)
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"

# The seed's flag line (Step 3), verbatim apart from the seccomp file.
SEED_FLAGS = ["--network", "none", "--read-only", "--tmpfs", "/tmp:size=50m,noexec",
              "--memory", "256m", "--memory-swap", "256m", "--cpus", "0.5", "--pids-limit", "64",
              "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
              "--ulimit", "nofile=64:64", "--ulimit", "nproc=32:32"]


def workloads():
    return sorted(glob.glob(os.path.join(WORKLOADS, "*.py")))


def need_prereqs(debootstrap=True):
    """Skips unless root, the tightbox binary is built and (for the base image) debootstrap exists."""
    tbtest.need_root()
    if debootstrap:
        tbtest.need_cmd("debootstrap")
    if not os.access(tbtest.TIGHTBOX, os.X_OK):
        raise unittest.SkipTest("%s not built" % tbtest.TIGHTBOX)


def corpus_failures(test, run):
    """Runs every workload with RUN(script path) -> CompletedProcess (text); returns one line per
    workload that did not exit 0 with its OK line."""
    scripts = workloads()
    if not scripts:
        test.skipTest("no workloads in %s" % WORKLOADS)
    failed = []
    for s in scripts:
        p = run(s)
        if p.returncode != 0 or not p.stdout.startswith("OK"):
            failed.append("%s: rc=%d %s %s" % (os.path.basename(s), p.returncode, p.stdout.strip()[-200:],
                                               p.stderr.strip()[-600:]))
    return failed


def build_image(variant="base", engine="none", env=None, timeout=1200):
    """scripts/build-image --variant VARIANT --engine ENGINE: the tag, or the rootfs tar for none.
    Raises SkipTest when the machine cannot build it (exit 3: no mirror, not root...)."""
    b = subprocess.run([os.path.join(SCRIPTS, "build-image"), "--variant", variant, "--engine", engine],
                       capture_output=True, text=True, env=env, timeout=timeout)
    if b.returncode == 3:
        raise unittest.SkipTest("cannot build the %s image: %s" % (variant, b.stderr.strip().splitlines()[-1]))
    if b.returncode != 0:
        raise RuntimeError("scripts/build-image failed (exit %d): %s" % (b.returncode, b.stderr[-2000:]))
    return b.stdout.strip().splitlines()[-1]


def record_engine_profile(out_dir, runtime="tightbox,runc"):
    """Records the corpus (ptrace backend) and generates the engine profile into OUT_DIR.
    Returns the seccomp.json path; raises with the tool's output when a step fails."""
    rec = os.path.join(out_dir, "corpus.json")
    p = subprocess.run([tbtest.PYTHON, os.path.join(SCRIPTS, "record-corpus"), "--backend", "ptrace",
                        "--tightbox", tbtest.TIGHTBOX, "-o", rec], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("record-corpus failed (exit %d): %s %s" % (p.returncode, p.stdout[-1500:], p.stderr[-1500:]))
    p = tbtest.tightbox("generate", "--runtime", runtime, "-q", "-o", out_dir, rec)
    if p.returncode != 0:
        raise RuntimeError("tightbox generate --runtime %s failed: %s" % (runtime, p.stderr.decode()[-1500:]))
    return os.path.join(out_dir, "seccomp.json")


def started(daemon_class):
    """need_prereqs(), then a started private DAEMON_CLASS (Dockerd, Containerd). One that cannot
    start is stopped again (its folder removed) before the error or the skip goes on."""
    need_prereqs()
    d = daemon_class()
    try:
        return d.start()
    except BaseException:
        d.stop()
        raise


def dockerd_with_base_image():
    """A started private Dockerd with the base image imported (scripts/build-image --engine docker,
    from the shared debootstrap cache): (daemon, tag). For the benches too. Raises unittest.SkipTest
    when docker.io is not installed, RuntimeError when it cannot start or import; the daemon is
    stopped (its folder removed) before either goes on."""
    d = Dockerd()
    try:
        d.start()
        p = subprocess.run([os.path.join(SCRIPTS, "build-image"), "--engine", "docker"], env=d.env,
                           capture_output=True, text=True, timeout=1800)
        if p.returncode != 0 or not p.stdout.strip():
            raise RuntimeError("scripts/build-image --engine docker failed (exit %d): %s"
                               % (p.returncode, p.stderr.strip()[-300:]))
    except BaseException:
        d.stop()
        raise
    return d, p.stdout.strip().splitlines()[-1]


def stop_and_remove(daemon=None, folder=None):
    """A test module's clean-up, also of a half-done setUpModule: stops DAEMON (a Dockerd or
    Containerd; None when never made) and removes FOLDER (None when never made)."""
    if daemon:
        daemon.stop()
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _mounts_under(path):
    """Mount points below PATH, deepest first (from /proc/self/mountinfo)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def _remove_cgroup_parent(name):
    for d in sorted(tbtest.cgroup_parents(name), key=len, reverse=True):
        for sub, _, _ in sorted(os.walk(d, topdown=False), key=lambda w: -len(w[0])):
            try:
                os.rmdir(sub)
            except OSError:
                pass


def _stop_pid(pid, wait=30):
    """SIGTERM, then SIGKILL after WAIT seconds; reaps nothing (the daemons are not our children
    once setsid'd through Popen, so poll /proc)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid) or _zombie(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class _Daemon:
    """One private daemon: start() in setUpModule, stop() in tearDownModule (and at exit)."""
    NAME = "daemon"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tb-%s-" % self.NAME, dir="/var/tmp")
        self.cgroup_parent = "tb-test-%s-%d" % (self.NAME, os.getpid())
        self.proc = None
        self.log = os.path.join(self.dir, "log")

    def _spawn(self, argv):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    def _wait_ready(self, check, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if check():
                return
            time.sleep(0.2)
        with open(self.log, errors="replace") as f:
            tail = f.read()[-3000:]
        raise RuntimeError("%s did not start (exit %s): %s" % (self.NAME, self.proc.poll(), tail))

    def stop(self):
        """Stops the daemon by its pid, then its children (shims), unmounts and removes its folder."""
        if self.proc and self.proc.poll() is None:
            _stop_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # Processes the daemon left behind in its own session (containerd, shims): by pid.
        for pid in self._session_pids():
            _stop_pid(pid, wait=10)
        for mp in _mounts_under(self.dir):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        _remove_cgroup_parent(self.cgroup_parent)

    def _session_pids(self):
        if not self.proc:
            return []
        sid = self.proc.pid
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and int(d) != os.getpid():  # fields[3] is the session id
                pids.append(int(d))
        return pids


class Dockerd(_Daemon):
    """Debian's dockerd with its own data-root, exec-root and socket; no bridge, no iptables."""
    NAME = "docker"

    def start(self):
        for path in (DOCKERD, DOCKER):
            if not os.access(path, os.X_OK):
                raise unittest.SkipTest("%s is not installed (apt-get install docker.io)" % path)
        self.sock = os.path.join(self.dir, "sock")
        self.env = os.environ.copy()
        self.env.update(DOCKER_HOST="unix://" + self.sock, DOCKER_CONFIG=os.path.join(self.dir, "client"),
                        DOCKER_BUILDKIT="0", TB_DOCKER=DOCKER)
        self._spawn([DOCKERD, "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
                     "--data-root", os.path.join(self.dir, "root"), "--exec-root", os.path.join(self.dir, "exec"),
                     "-H", "unix://" + self.sock, "--pidfile", os.path.join(self.dir, "pid"),
                     "--cgroup-parent", self.cgroup_parent, "--storage-driver", "overlay2"])
        self._wait_ready(lambda: self.docker("version").returncode == 0)
        return self

    def docker(self, *args, timeout=120, input=None):
        return subprocess.run([DOCKER, *args], capture_output=True, text=True, env=self.env, timeout=timeout,
                              input=input)


class Containerd(_Daemon):
    """Debian's containerd with its own root, state folder and socket; the CRI plugin is off (no
    CNI, no kubelet): ctr talks to it directly."""
    NAME = "containerd"

    def start(self):
        for path in (CONTAINERD, CTR):
            if not os.access(path, os.X_OK):
                raise unittest.SkipTest("%s is not installed (apt-get install containerd)" % path)
        self.sock = os.path.join(self.dir, "sock")
        conf = os.path.join(self.dir, "config.toml")
        with open(conf, "w") as f:
            f.write('version = 2\nroot = "%s"\nstate = "%s"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
                    '[debug]\n  address = ""\n[metrics]\n  address = ""\n'
                    % (os.path.join(self.dir, "root"), os.path.join(self.dir, "state"), self.sock, self.sock))
        self._spawn([CONTAINERD, "--config", conf])
        self._wait_ready(lambda: self.ctr("version").returncode == 0)
        return self

    def ctr(self, *args, timeout=120):
        return subprocess.run([CTR, "--address", self.sock, "--namespace", "tbtest", *args],
                              capture_output=True, text=True, timeout=timeout)
