"""Every `tightbox export` output, used exactly as printed on this host.

- docker and podman: the printed text (notes as `#` lines, then the command) goes to `sh` as is; the
  script it mounts reads the input it mounts and prints them back.
- oci: the printed config.json is the bundle's config for `runc run`, unchanged; with an absolute
  --rootfs, containerd runs it as is (`ctr run --config`, a private containerd).
- kubernetes: there is no cluster here, and kubectl cannot validate without an API server
  (`create --dry-run=client` still asks the server for its resource list), so the YAML is parsed
  (python3-yaml) and every object checked field by field against the Kubernetes API types of
  Debian's python3-kubernetes (an unknown or misspelt field fails); the ConfigMap must carry the
  script and input byte for byte, and the Pod must mount them where the command reads them.
- spo: the SeccompProfile's spec is the profile itself: it runs the script under podman.

The profile is generated from a fresh recording with --runtime tightbox,runc (export refuses a
tightbox-only profile: tests/golden/test_generate.py). Each engine part skips on its own when the
engine is missing; the whole file skips (77) when none is there.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbengines
import tbtest

SCRIPT = ("import os\n"
          "data = open('/sandbox/input/data.csv').read()\n"
          "st = open('/proc/self/status').read()\n"
          "print('OK', os.getuid(), 'Seccomp:\\t2' in st, os.getcwd(), data.replace('\\n', '|'))\n")
DATA = "a,b\n1,2\n"
EXPECTED = "OK 65534 True /sandbox a,b|1,2|"

TMP = None
GEN = None
SCRIPT_PATH = None
DATA_PATH = None


def setUpModule():
    global TMP, GEN, SCRIPT_PATH, DATA_PATH
    tbengines.need_prereqs(debootstrap=False)
    TMP = tempfile.mkdtemp(prefix="tb-test-export-", dir="/var/tmp")
    GEN = os.path.join(TMP, "gen")
    os.makedirs(GEN)
    try:
        tbengines.record_engine_profile(GEN)
    except BaseException:
        tearDownModule()
        raise
    SCRIPT_PATH = os.path.join(TMP, "script.py")
    DATA_PATH = os.path.join(TMP, "data.csv")
    with open(SCRIPT_PATH, "w") as f:
        f.write(SCRIPT)
    with open(DATA_PATH, "w") as f:
        f.write(DATA)


def tearDownModule():
    tbengines.stop_and_remove(folder=TMP)
    tbtest.remove_podman_cgroups()


def export(fmt, *args, profile_dir=None):
    p = tbtest.tightbox("export", "--format", fmt, "--profile-dir", profile_dir or GEN, "--script", SCRIPT_PATH,
                        "--input", DATA_PATH, *args)
    if p.returncode != 0:
        raise AssertionError("tightbox export --format %s failed: %s" % (fmt, p.stderr.decode()))
    return p.stdout.decode()


def podman_env():
    tbtest.need_cmd("podman")
    tbtest.need_cmd("runc")
    tbtest.need_cmd("debootstrap")
    out = subprocess.run([os.path.join(tbengines.SCRIPTS, "podman-env")], capture_output=True, text=True, check=True)
    env = os.environ.copy()
    for line in out.stdout.splitlines():
        k, v = line[len("export "):].split("=", 1)
        env[k] = v.strip("'")
    return env, tbengines.build_image("base", "podman", env=env)


def sh(text, env, timeout=180):
    """Runs TEXT, exactly as export printed it, with sh."""
    return subprocess.run(["sh", "-c", text], capture_output=True, text=True, env=env, timeout=timeout)


class TestPodman(unittest.TestCase):
    def test_podman_line_as_printed(self):
        env, image = podman_env()
        text = export("podman", "--image", image)
        self.assertIn("--volume %s:/sandbox/script.py:ro" % SCRIPT_PATH, text)
        p = sh(text, env)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(p.stdout.strip(), EXPECTED)

    def test_spo_spec_is_a_working_profile(self):
        import yaml
        env, image = podman_env()
        docs = list(yaml.safe_load_all(export("spo")))
        self.assertEqual([d["kind"] for d in docs], ["SeccompProfile"])
        spec_dir = os.path.join(TMP, "spo")
        os.makedirs(spec_dir, exist_ok=True)
        with open(os.path.join(spec_dir, "seccomp.json"), "w") as f:
            json.dump(docs[0]["spec"], f)
        # The spec exported again as a podman line: it must pass export's own check and run.
        p = sh(export("podman", "--image", image, profile_dir=spec_dir), env)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(p.stdout.strip(), EXPECTED)


class TestDocker(unittest.TestCase):
    def test_docker_line_as_printed(self):
        tbtest.need_cmd("debootstrap")
        d = tbengines.Dockerd()
        try:
            d.start()
            image = tbengines.build_image("base", "docker", env=d.env)
            text = export("docker", "--image", image)
            # `docker` in the printed line is Debian's client, the one that matches the daemon.
            env = dict(d.env, PATH=os.path.dirname(tbengines.DOCKER) + ":" + os.environ.get("PATH", ""))
            p = sh(text, env)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertEqual(p.stdout.strip(), EXPECTED)
        finally:
            d.stop()


def base_rootfs():
    """The base image's tree, extracted once per run of this file, as the rootfs of the bundle
    (runc takes no symlink there)."""
    tbtest.need_cmd("debootstrap")
    root = os.path.join(TMP, "bundle", "rootfs")
    if not os.path.isdir(root):
        tar = tbengines.build_image("base", "none")
        os.makedirs(root + ".tmp")
        subprocess.run(["tar", "-C", root + ".tmp", "-xf", tar], check=True)
        os.rename(root + ".tmp", root)
    return root


class TestOci(unittest.TestCase):
    def test_config_as_printed_under_runc(self):
        tbtest.need_cmd("runc")
        bundle = os.path.dirname(base_rootfs())
        with open(os.path.join(bundle, "config.json"), "w") as f:
            f.write(export("oci", "--", "/usr/bin/python3", "/sandbox/script.py"))
        cid = "tb-export-%d" % os.getpid()
        root = os.path.join(TMP, "runc-state")
        try:
            p = subprocess.run(["runc", "--root", root, "run", "--bundle", bundle, cid], capture_output=True,
                               text=True, timeout=180, stdin=subprocess.DEVNULL)
        finally:
            subprocess.run(["runc", "--root", root, "delete", "--force", cid], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(p.stdout.strip(), EXPECTED)

    def test_config_as_printed_under_containerd(self):
        # The same config with an absolute --rootfs is what `ctr run --config` takes as is.
        rootfs = base_rootfs()
        c = tbengines.Containerd()
        try:
            c.start()
            config = os.path.join(TMP, "ctr-config.json")
            with open(config, "w") as f:
                f.write(export("oci", "--rootfs", rootfs, "--", "/usr/bin/python3", "/sandbox/script.py"))
            cid = "tb-export-%d" % os.getpid()
            p = c.ctr("run", "--rm", "--config", config, cid, timeout=180)
            c.ctr("containers", "rm", cid)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertEqual(p.stdout.strip(), EXPECTED)
        finally:
            c.stop()


# Run by Debian's python3 (where python3-kubernetes lives): reads [[object, "V1Pod"], ...] as JSON,
# prints the problems. Every field must be one the API type has, recursively.
VALIDATE = r"""
import json, sys
try:
    import kubernetes.client as kc
except ImportError:
    sys.exit(3)
def check(obj, klass, where, errs):
    model = getattr(kc, klass)
    by_json = {v: k for k, v in model.attribute_map.items()}
    for key, val in obj.items():
        if key not in by_json:
            errs.append("%s: unknown field '%s' for %s" % (where, key, klass))
            continue
        typ = model.openapi_types[by_json[key]]
        if typ.startswith("list[V1"):
            for i, e in enumerate(val):
                check(e, typ[5:-1], "%s.%s[%d]" % (where, key, i), errs)
        elif typ.startswith("V1"):
            check(val, typ, "%s.%s" % (where, key), errs)
errs = []
for obj, klass in json.load(sys.stdin):
    check(obj, klass, obj["kind"], errs)
print(json.dumps(errs))
"""


class TestKubernetes(unittest.TestCase):
    def test_yaml_is_valid_and_mounts_the_script(self):
        import yaml
        text = export("kubernetes")
        for caveat in ("podPidsLimit", "ulimits", "NetworkPolicy", "/var/lib/kubelet/seccomp"):
            self.assertIn(caveat, text)
        docs = list(yaml.safe_load_all(text))
        self.assertEqual([d["kind"] for d in docs], ["ConfigMap", "NetworkPolicy", "Pod"])
        v = subprocess.run([tbtest.PYTHON, "-c", VALIDATE], capture_output=True, text=True, timeout=120,
                           input=json.dumps(list(zip(docs, ("V1ConfigMap", "V1NetworkPolicy", "V1Pod")))))
        if v.returncode == 3:
            self.skipTest("python3-kubernetes is not installed (apt-get install python3-kubernetes)")
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertEqual(json.loads(v.stdout), [])
        cm, _, pod = docs
        self.assertEqual(cm["data"], {"script.py": SCRIPT, "data.csv": DATA})
        c = pod["spec"]["containers"][0]
        self.assertEqual(c["command"], ["python3", "/sandbox/script.py"])
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        self.assertEqual(mounts["/sandbox/script.py"]["subPath"], "script.py")
        self.assertEqual(mounts["/sandbox/input/data.csv"]["subPath"], "data.csv")
        vols = {v["name"]: v for v in pod["spec"]["volumes"]}
        self.assertEqual(vols[mounts["/sandbox/script.py"]["name"]]["configMap"]["name"], cm["metadata"]["name"])
        # kubectl, where it can validate offline (it cannot without an API server: then say so).
        if shutil.which("kubectl"):
            path = os.path.join(TMP, "pod.yaml")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run(["kubectl", "create", "--dry-run=client", "-o", "name", "-f", path],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, KUBECONFIG=os.path.join(TMP, "no-kubeconfig")))
            if p.returncode == 0:
                self.assertEqual(p.stdout.split(), ["configmap/%s" % cm["metadata"]["name"],
                                                    "networkpolicy.networking.k8s.io/%s" % pod["metadata"]["name"],
                                                    "pod/%s" % pod["metadata"]["name"]])
            else:
                print("\nkubectl create --dry-run=client cannot validate here: %s" % p.stderr.strip()[-300:])


if __name__ == "__main__":
    tbtest.main()
