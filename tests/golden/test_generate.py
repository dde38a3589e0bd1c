"""Golden tests for `tightbox generate` and `tightbox export`.

Fixture recordings in tests/golden/generate/ go through the binary; every output (seccomp.json, the
AppArmor profile, landlock.json, the summary) is compared byte for byte with
tests/golden/generate/expected/CASE/. Set TB_UPDATE_GOLDEN=1 to rewrite the expected files after an
intended change (and review the diff). AppArmor output resolves recorded symlinks on this host
(/usr/bin/python3 -> python3.11), so the expected files hold for Debian 12.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

HERE = os.path.join(tbtest.SOURCE_DIR, "tests", "golden", "generate")
EXPECTED = os.path.join(HERE, "expected")
UPDATE = os.environ.get("TB_UPDATE_GOLDEN") == "1"

# case name -> (generate arguments, recordings)
CASES = {
    "hello": ([], ["rec-hello.json"]),
    "hello-runc": (["--runtime", "runc"], ["rec-hello.json"]),
    "hello-both-runtimes": (["--runtime", "tightbox,runc"], ["rec-hello.json"]),
    "legacy-multiarch": (["--arch", "x86_64,aarch64"], ["rec-legacy.json"]),
    "legacy-strict": (["--args", "strict"], ["rec-legacy.json"]),
    "legacy-none": (["--args", "none"], ["rec-legacy.json"]),
    "merged-named": (["--arch", "x86_64,aarch64", "--name", "my-sandbox"],
                     ["rec-hello.json", "rec-legacy.json", "rec-aarch64.json"]),
    "aarch64": (["--arch", "aarch64"], ["rec-aarch64.json"]),
    # i386 int 0x80 calls: denied without --arch x86, a sub-architecture of x86_64's entry with it.
    "int80-native": ([], ["rec-int80.json"]),
    "int80-subarch": (["--arch", "x86_64,x86"], ["rec-int80.json"]),
}

EXPORTS = ["docker", "podman", "oci", "kubernetes", "spo"]


def generate(out, args, recs):
    p = tbtest.tightbox("generate", "-o", out, *args, *[os.path.join(HERE, r) for r in recs])
    return p


def compare(test, path, actual):
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(actual)
        return
    if not os.path.exists(path):
        test.fail("%s is missing (run with TB_UPDATE_GOLDEN=1 to create it)" % path)
    with open(path, "rb") as f:
        expected = f.read()
    if expected != actual:
        import difflib
        diff = "".join(difflib.unified_diff(expected.decode(errors="replace").splitlines(True),
                                            actual.decode(errors="replace").splitlines(True),
                                            path, "actual"))
        test.fail("output differs from %s:\n%s" % (path, diff[:6000]))


class GenerateGolden(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tb-golden-gen-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    @staticmethod
    def hello():
        """The recording rec-hello.json, to be edited into a hostile one."""
        with open(os.path.join(HERE, "rec-hello.json")) as f:
            return json.load(f)

    def write_recording(self, name, rec):
        """@rec as NAME.json in the temporary directory; its path."""
        src = os.path.join(self.tmp, name + ".json")
        with open(src, "w") as f:
            json.dump(rec, f)
        return src

    def generate_recording(self, name, rec):
        """`tightbox generate -o TMP/NAME` of @rec; (CompletedProcess, the output directory)."""
        out = os.path.join(self.tmp, name)
        return tbtest.tightbox("generate", "-o", out, self.write_recording(name, rec)), out

    def run_case(self, name):
        args, recs = CASES[name]
        out = os.path.join(self.tmp, name)
        os.mkdir(out)
        p = generate(out, args, recs)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stderr, b"")
        summary = p.stdout.replace(out.encode(), b"OUT")
        compare(self, os.path.join(EXPECTED, name, "summary.txt"), summary)
        names = sorted(os.listdir(out))
        aa_name = "my-sandbox" if "--name" in args else "tightbox-sandbox"
        self.assertEqual(names, sorted(["seccomp.json", "landlock.json", aa_name]))
        for f in names:
            with open(os.path.join(out, f), "rb") as fh:
                compare(self, os.path.join(EXPECTED, name, f), fh.read())
        return out

    def test_cases(self):
        for name in CASES:
            with self.subTest(case=name):
                self.run_case(name)

    def test_byte_identical_twice(self):
        a = self.run_case("merged-named")
        b = os.path.join(self.tmp, "again")
        os.mkdir(b)
        args, recs = CASES["merged-named"]
        # Recordings in another order give the same policies.
        p = generate(b, args, list(reversed(recs)))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        for f in os.listdir(a):
            with open(os.path.join(a, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
                self.assertEqual(x.read(), y.read(), f)

    def test_seccomp_invariants(self):
        out = self.run_case("legacy-multiarch")
        with open(os.path.join(out, "seccomp.json")) as f:
            prof = json.load(f)
        self.assertEqual(prof["defaultAction"], "SCMP_ACT_ERRNO")
        self.assertEqual(prof["defaultErrnoRet"], 38)
        self.assertEqual([a["architecture"] for a in prof["archMap"]],
                         ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"])
        uncond = {}
        for r in prof["syscalls"]:
            self.assertIn("comment", r)
            for a in r.get("args", []):
                # One comparison per argument index (runc splits repeated indexes into OR rules).
                self.assertEqual(len([x for x in r["args"] if x["index"] == a["index"]]), 1)
            if "args" not in r:
                for n in r["names"]:
                    key = (n, json.dumps(r.get("includes")))
                    self.assertNotIn(key, uncond, "%s has two unconditional rules" % n)
                    uncond[key] = r["action"]
        # Names filtered by arguments never also get an unconditional allow (it would win).
        for n in ("clone", "ioctl", "socket", "personality"):
            self.assertNotIn((n, "null"), uncond)
        self.assertEqual(uncond[("clone3", "null")], "SCMP_ACT_ERRNO")
        self.assertEqual(uncond[("ptrace", "null")], "SCMP_ACT_ERRNO")

    def test_profiles_load_in_tightbox_audit(self):
        """The project's own profile reader accepts every generated profile."""
        for name in ("hello", "legacy-multiarch", "aarch64"):
            out = self.run_case(name) if not os.path.isdir(os.path.join(self.tmp, name)) else os.path.join(self.tmp, name)
            p = tbtest.tightbox("audit", os.path.join(out, "seccomp.json"))
            self.assertIn(p.returncode, (0, 1), p.stderr.decode()[-2000:])

    def test_generated_profiles_have_no_findings(self):
        """issue 9 item 5: audit finds nothing in what generate writes from Python recordings (the
        generator's own clone3 ENOSYS rule was flagged no-effect-rule), nor in the shipped default.
        The other cases have findings by their input: non-Python recordings (python-cannot-start),
        --args none (namespace flags, TIOCSTI), --arch x86_64,x86 (an allowed sub-arch)."""
        for name in ("hello", "hello-runc", "hello-both-runtimes", "merged-named"):
            with self.subTest(case=name):
                out = os.path.join(self.tmp, name)
                if not os.path.isdir(out):
                    out = self.run_case(name)
                p = tbtest.tightbox("audit", "--json", "--fail-on", "info", os.path.join(out, "seccomp.json"))
                self.assertEqual(json.loads(p.stdout)["findings"], [], p.stdout.decode()[-3000:])
                self.assertEqual(p.returncode, 0)
        default = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
        p = tbtest.tightbox("audit", "--json", "--fail-on", "info", default)
        self.assertEqual(json.loads(p.stdout)["findings"], [], p.stdout.decode()[-3000:])

    def test_hostile_recording_cannot_allow_the_risky_set(self):
        """issue 10 item 4: a recording listing memfd_create, execveat, seccomp,
        personality(READ_IMPLIES_EXEC) and kernel-facing socket families made the generated
        profile allow them. Now each needs --allow-risky naming it; audit rates the fileless-exec
        pair high."""
        rec = self.hello()
        sc = rec["syscalls"]["x86_64"]
        for name in ("memfd_create", "execveat", "seccomp", "personality", "socket", "execve"):
            sc[name] = {"count": 1, "workloads": ["hello"]}
        args = rec.setdefault("args", {}).setdefault("x86_64", {})
        args["personality"] = [{"a0": 0x400000, "count": 1}]
        args["socket"] = [{"a0": fam, "count": 1} for fam in (1, 16, 17, 38, 40)]
        src = self.write_recording("risky", rec)

        def allowed(out):
            with open(os.path.join(out, "seccomp.json")) as f:
                prof = json.load(f)
            names, fams = set(), set()
            for r in prof["syscalls"]:
                if r["action"] != "SCMP_ACT_ALLOW":
                    continue
                for n in r["names"]:
                    if n == "socket" and r.get("args"):
                        fams.update(a["value"] for a in r["args"] if a["index"] == 0)
                    elif n == "personality" and r.get("args"):
                        names.update("personality=%#x" % a["value"] for a in r["args"])
                    else:
                        names.add(n)
            return names, fams

        def generate_and_audit(out, *flags):
            """(allowed names, allowed socket families, fileless-exec severities, stdout)."""
            p = tbtest.tightbox("generate", "-o", out, *flags, src)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            names, fams = allowed(out)
            a = tbtest.tightbox("audit", "--json", os.path.join(out, "seccomp.json"))
            sev = [x["severity"] for x in json.loads(a.stdout)["findings"]
                   if x["rule"] == "fileless-exec"]
            return names, fams, sev, p.stdout.decode()

        names, fams, sev, out = generate_and_audit(os.path.join(self.tmp, "risky"))
        for n in ("memfd_create", "execveat", "seccomp", "personality=0x400000"):
            self.assertNotIn(n, names)
            self.assertIn(n.split("=")[0], out)
        self.assertEqual(fams, {1})
        self.assertIn("execve", names)
        self.assertEqual(sev, [])

        names, fams, sev, _ = generate_and_audit(os.path.join(self.tmp, "risky-allowed"),
                                                 "--allow-risky", "memfd_create,AF_PACKET")
        self.assertIn("memfd_create", names)
        self.assertNotIn("execveat", names)
        self.assertEqual(fams, {1, 17})
        self.assertEqual(sev, ["high"])

        p = tbtest.tightbox("generate", "-o", os.path.join(self.tmp, "bad"), "--allow-risky",
                            "memfd_create,ptrace", src)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--allow-risky: unknown item 'ptrace'", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad")))

    def test_too_many_names_refused(self):
        """issue 10 item 9: a recording with 40k syscall names took generate 6-10 s (its name
        lookups grow with the square); a recording holds at most 4096 names per arch, and more
        is refused naming the place, with nothing written."""
        rec = self.hello()
        for i in range(4100):
            rec["syscalls"]["x86_64"]["bogus_%d" % i] = {"count": 1, "workloads": ["hello"]}
        p, out = self.generate_recording("many", rec)
        self.assertEqual(p.returncode, 2, p.stderr.decode())
        self.assertIn(b"syscalls.x86_64: ", p.stderr)
        self.assertIn(b"at most 4096 per architecture", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_workload_name_cannot_inject_apparmor_rules(self):
        """issue 10 item 12: a recording's workload name went into the AppArmor header unescaped,
        so a newline in it ended the comment and added `profile pwn flags=(unconfined)`."""
        rec = self.hello()
        rec["provenance"]["workload"] = "x\nprofile pwn flags=(unconfined) {\n  /** rwx,\n}\n#"
        p, out = self.generate_recording("hostile", rec)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(os.path.join(out, "tightbox-sandbox")) as f:
            text = f.read()
        rules = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        self.assertEqual([l for l in rules if l.startswith("profile")],
                         ["profile tightbox-sandbox flags=(attach_disconnected,mediate_deleted) {"])
        self.assertFalse([l for l in rules if "rwx" in l or "flags=(unconfined)" in l], text)
        if shutil.which("apparmor_parser"):
            c = subprocess.run(["apparmor_parser", "-Q", "-K", os.path.join(out, "tightbox-sandbox")],
                               capture_output=True)
            self.assertEqual(c.returncode, 0, c.stderr.decode())

    def test_apparmor_parse_error_writes_nothing(self):
        """issue 10 item 12: generate compile-checks its AppArmor profile with apparmor_parser
        -Q -K where it is installed; a refusal (here a stand-in parser that always refuses)
        writes none of the three files and shows the parser's message."""
        fake = os.path.join(self.tmp, "bin")
        os.mkdir(fake)
        with open(os.path.join(fake, "apparmor_parser"), "w") as f:
            f.write("#!/bin/sh\necho \"AppArmor parser error at line 7: syntax error\" >&2\nexit 1\n")
        os.chmod(os.path.join(fake, "apparmor_parser"), 0o755)
        env = dict(os.environ, PATH=fake + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        out = os.path.join(self.tmp, "refused")
        p = tbtest.tightbox("generate", "-o", out, os.path.join(HERE, "rec-hello.json"), env=env)
        self.assertEqual(p.returncode, 1, p.stderr.decode())
        self.assertIn(b"does not compile (apparmor_parser -Q -K)", p.stderr)
        self.assertIn(b"syntax error", p.stderr)
        self.assertEqual(os.listdir(out) if os.path.isdir(out) else [], [])

    def test_apparmor_compiles(self):
        tbtest.need_cmd("apparmor_parser")
        for name in CASES:
            with self.subTest(case=name):
                out = os.path.join(self.tmp, name)
                if not os.path.isdir(out):
                    out = self.run_case(name)
                aa = [f for f in os.listdir(out) if not f.endswith(".json")][0]
                p = subprocess.run(["apparmor_parser", "-Q", "-K", os.path.join(out, aa)],
                                   capture_output=True)
                self.assertEqual(p.returncode, 0, p.stderr.decode())


class ExportGolden(unittest.TestCase):
    # Engines run the container through runc: the profile must carry runc's prelude. --apparmor
    # keeps the expected files the same on hosts with and without AppArmor.
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tb-golden-export-")
        p = generate(self.tmp, ["--runtime", "tightbox,runc"], ["rec-hello.json"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.script = os.path.join(self.tmp, "script.py")
        with open(self.script, "w") as f:
            f.write("print('OK')\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def export(self, fmt, *args):
        return tbtest.tightbox("export", "--format", fmt, "--profile-dir", self.tmp, "--script", self.script,
                               "--apparmor", *args)

    def test_formats(self):
        import yaml
        for fmt in EXPORTS:
            with self.subTest(format=fmt):
                p = self.export(fmt)
                self.assertEqual(p.returncode, 0, p.stderr.decode())
                text = p.stdout.replace(os.path.realpath(self.tmp).encode(), b"PROFILE_DIR")
                compare(self, os.path.join(EXPECTED, "export", fmt + ".txt"), text)
                if fmt == "oci":
                    json.loads(p.stdout)
                elif fmt in ("kubernetes", "spo"):
                    # The YAML holds exactly what --json prints.
                    docs = list(yaml.safe_load_all(p.stdout))
                    j = json.loads(self.export(fmt, "--json").stdout)
                    self.assertEqual(docs, j["items"] if j["kind"] == "List" else [j])

    def test_refuses_a_profile_without_runcs_prelude(self):
        gen = os.path.join(self.tmp, "tightbox-only")
        os.mkdir(gen)
        p = generate(gen, [], ["rec-hello.json"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        for fmt in EXPORTS:
            with self.subTest(format=fmt):
                p = tbtest.tightbox("export", "--format", fmt, "--profile-dir", gen, "--script", self.script)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(p.stdout, b"")
                self.assertIn(b"fstatfs", p.stderr)
                self.assertIn(b"tightbox generate --runtime tightbox,runc", p.stderr)

    def test_apparmor_only_where_the_host_has_it(self):
        p = tbtest.tightbox("export", "--format", "docker", "--profile-dir", self.tmp, "--script", self.script)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        enabled = open("/sys/module/apparmor/parameters/enabled").read().strip() == "Y" \
            if os.path.exists("/sys/module/apparmor/parameters/enabled") else False
        self.assertEqual(b"apparmor=" in p.stdout, enabled)
        if not enabled:
            self.assertIn(b"# note: AppArmor: not used", p.stdout)
        p = tbtest.tightbox("export", "--format", "docker", "--profile-dir", self.tmp, "--script", self.script,
                            "--no-apparmor")
        self.assertNotIn(b"apparmor", p.stdout)

    def test_script_and_inputs_are_mounted(self):
        data = os.path.join(self.tmp, "data.csv")
        with open(data, "w") as f:
            f.write("a,b\n1,2\n")
        p = self.export("docker", "--input", data)
        line = p.stdout.decode()
        self.assertIn("--volume %s:/sandbox/script.py:ro" % os.path.realpath(self.script), line)
        self.assertIn("--volume %s:/sandbox/input/data.csv:ro" % os.path.realpath(data), line)
        objs = json.loads(self.export("kubernetes", "--json", "--input", data).stdout)["items"]
        self.assertEqual([o["kind"] for o in objs], ["ConfigMap", "NetworkPolicy", "Pod"])
        self.assertEqual(objs[0]["data"], {"script.py": "print('OK')\n", "data.csv": "a,b\n1,2\n"})
        mounts = {m["mountPath"]: m for m in objs[2]["spec"]["containers"][0]["volumeMounts"]}
        self.assertEqual(mounts["/sandbox/script.py"]["subPath"], "script.py")
        self.assertEqual(mounts["/sandbox/input/data.csv"]["subPath"], "data.csv")
        # Two inputs of one name would be two mounts on one path: refused.
        os.mkdir(os.path.join(self.tmp, "other"))
        shutil.copy(data, os.path.join(self.tmp, "other", "data.csv"))
        p = self.export("podman", "--input", data, "--input", os.path.join(self.tmp, "other", "data.csv"))
        self.assertEqual((p.returncode, p.stdout), (2, b""))
        self.assertIn(b"/sandbox/input/data.csv", p.stderr)
        # Without a script the default command has nothing to run: refused, not printed.
        empty = tempfile.mkdtemp(prefix="tb-golden-export-cwd-")
        try:
            p = subprocess.run([tbtest.TIGHTBOX, "export", "--format", "docker", "--profile-dir", self.tmp],
                               cwd=empty, capture_output=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"--script", p.stderr)
            self.assertEqual(p.stdout, b"")
        finally:
            shutil.rmtree(empty)

    def test_docker_line_has_the_seed_flags(self):
        p = tbtest.tightbox("export", "--format", "docker", "--profile-dir", self.tmp, "--apparmor",
                            "--image", "my image", "--", "python3", "-c", "print('x y')")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        line = p.stdout.decode().replace("\\\n", " ")
        for flag in ("--network none", "--read-only", "--tmpfs /tmp:size=50m,noexec,nosuid,nodev",
                     "--memory 256m", "--memory-swap 256m", "--cpus 0.5", "--pids-limit 64",
                     "--cap-drop ALL", "--security-opt no-new-privileges",
                     "--security-opt seccomp=%s/seccomp.json" % os.path.realpath(self.tmp),
                     "--security-opt apparmor=tightbox-sandbox", "--ulimit nofile=64:64",
                     "--ulimit nproc=32:32", "--user 65534:65534", "'my image'",
                     "'print('\\''x y'\\'')'"):
            self.assertIn(flag, line)

    def test_kubernetes_pod(self):
        p = self.export("kubernetes", "--json", "--name", "pyjob")
        pod = json.loads(p.stdout)["items"][-1]
        spec = pod["spec"]
        c = spec["containers"][0]
        self.assertEqual(pod["kind"], "Pod")
        self.assertFalse(spec["automountServiceAccountToken"])
        self.assertFalse(spec["hostNetwork"])
        self.assertEqual(c["securityContext"]["seccompProfile"],
                         {"type": "Localhost", "localhostProfile": "tightbox/pyjob.json"})
        self.assertEqual(c["securityContext"]["appArmorProfile"],
                         {"type": "Localhost", "localhostProfile": "pyjob"})
        self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertEqual(c["securityContext"]["runAsUser"], 65534)
        self.assertEqual(c["resources"]["limits"]["memory"], "256Mi")
        self.assertEqual(c["resources"]["limits"]["cpu"], "500m")
        self.assertEqual(spec["volumes"][0]["emptyDir"], {"medium": "Memory", "sizeLimit": "50Mi"})
        # The caveats travel with the output: on stderr beside JSON, as comments in YAML.
        self.assertIn(b"podPidsLimit", p.stderr)
        self.assertIn(b"# note: pids limit 64", self.export("kubernetes").stdout)

    def test_bad_usage(self):
        p = tbtest.tightbox("export", "--format", "ansible", "--profile-dir", self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"ansible", p.stderr)
        empty = tempfile.mkdtemp(prefix="tb-golden-export-empty-")
        try:
            p = tbtest.tightbox("export", "--format", "docker", "--profile-dir", empty, "--script", self.script)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"seccomp.json", p.stderr)
            with open(os.path.join(empty, "seccomp.json"), "w") as f:
                f.write('{"defaultAction": "SCMP_ACT_ERRNO",\n "syscalls": [}')
            p = tbtest.tightbox("export", "--format", "oci", "--profile-dir", empty, "--script", self.script)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"seccomp.json:2", p.stderr)
            self.assertEqual(p.stdout, b"")
        finally:
            shutil.rmtree(empty)


if __name__ == "__main__":
    tbtest.main()
