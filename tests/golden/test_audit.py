"""Golden and behaviour tests of `tightbox audit` and `tightbox diff` (exit codes, SARIF, outputs)."""
import json
import os
import unittest

import tbtest

FIX = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "profiles")
GOLDEN = os.path.join(tbtest.SOURCE_DIR, "tests", "golden", "audit")
SEED = os.path.join(FIX, "seed.json")
CORRECTED = os.path.join(tbtest.SOURCE_DIR, "profiles", "seed-corrected.json")
DOCKER = os.path.join(tbtest.PEERS_DIR, "docker-default.json")
PODMAN = "/usr/share/containers/seccomp.json"


def audit(*args):
    return tbtest.tightbox("audit", "--baseline", "none", *args)


class Golden(unittest.TestCase):
    def check_golden(self, name, args, rc):
        p = tbtest.tightbox(*args)
        self.assertEqual(p.returncode, rc, p.stderr.decode())
        # Absolute paths of inputs outside the tree are not part of the golden output.
        got = p.stdout.decode().replace(tbtest.PEERS_DIR + "/", "PEERS/")
        path = os.path.join(GOLDEN, name)
        if os.environ.get("TB_UPDATE_GOLDEN"):
            with open(path, "w") as f:
                f.write(got)
        with open(path) as f:
            self.assertEqual(got, f.read(), "%s differs (TB_UPDATE_GOLDEN=1 rewrites it)" % name)

    def test_seed(self):
        os.chdir(tbtest.SOURCE_DIR)  # relative paths in the output
        self.check_golden("seed.txt", ["audit", "--baseline", "none", "tests/fixtures/profiles/seed.json"], 1)

    def test_docker(self):
        tbtest.need_file(DOCKER, "Docker's default profile (tests/fixtures/profiles)")
        self.check_golden("docker-default.txt", ["audit", "--baseline", "none", "--json", DOCKER], 1)

    def test_podman(self):
        tbtest.need_file(PODMAN, "podman's profile (containers-common)")
        self.check_golden("podman.txt", ["audit", "--baseline", "none", "--json", PODMAN], 1)

    def test_diff(self):
        os.chdir(tbtest.SOURCE_DIR)
        self.check_golden("diff-seed-corrected.txt",
                          ["diff", "tests/fixtures/profiles/seed.json", "profiles/seed-corrected.json"], 1)


class Behaviour(unittest.TestCase):
    def test_seed_findings(self):
        p = audit("--json", SEED)
        self.assertEqual(p.returncode, 1)
        r = json.loads(p.stdout)
        rules = {(f["rule"], f["subject"]) for f in r["findings"]}
        self.assertIn(("python-cannot-start", "python3"), rules)
        self.assertIn(("clone-namespaces", "clone"), rules)
        self.assertIn(("socket-families", "socket"), rules)
        self.assertIn(("name-not-on-arch", "aarch64"), rules)
        py = [f for f in r["findings"] if f["rule"] == "python-cannot-start"][0]
        self.assertIn("getdents64, newfstatat, pread64", py["message"])

    def test_fail_on(self):
        self.assertEqual(audit(CORRECTED).returncode, 0)
        self.assertEqual(audit("--fail-on", "low", SEED).returncode, 1)
        self.assertEqual(audit("--fail-on", "bogus", SEED).returncode, 2)

    def test_bad_input(self):
        p = audit(os.path.join(FIX, "bad-op.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn(b'bad-op.json: syscalls[0].args[0].op: unknown op "SCMP_CMP_FOO"', p.stderr)
        self.assertEqual(p.stdout, b"")
        p = audit(os.path.join(FIX, "bad-json.json"))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, rb"bad-json.json:\d+:\d+: not valid JSON")
        self.assertEqual(audit("/nonexistent.json").returncode, 2)
        self.assertEqual(tbtest.tightbox("diff", SEED, os.path.join(FIX, "bad-op.json")).returncode, 2)

    def test_sarif(self):
        p = audit("--sarif", SEED)
        s = json.loads(p.stdout)
        self.assertEqual(s["version"], "2.1.0")
        self.assertIn("sarif-schema-2.1.0", s["$schema"])
        self.assertEqual(len(s["runs"]), 1)
        drv = s["runs"][0]["tool"]["driver"]
        self.assertEqual(drv["name"], "tightbox")
        self.assertTrue(drv["version"])
        ids = {r["id"] for r in drv["rules"]}
        for r in drv["rules"]:
            self.assertTrue(r["shortDescription"]["text"])
        self.assertTrue(s["runs"][0]["results"])
        for res in s["runs"][0]["results"]:
            self.assertIn(res["ruleId"], ids)
            self.assertIn(res["level"], ("error", "warning", "note", "none"))
            self.assertTrue(res["message"]["text"])
            uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            self.assertEqual(uri, SEED)

    def test_diff_summary_first_and_folded(self):
        p = tbtest.tightbox("diff", CORRECTED, DOCKER)
        self.assertEqual(p.returncode, 1)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0], "A: " + CORRECTED)
        self.assertEqual(lines[1], "B: " + DOCKER)
        self.assertRegex(lines[2], r"^x86_64: \d+ differences$")
        self.assertRegex(lines[3], r"^ +\d+ (only-a|only-b|action|args|arch) ")
        self.assertEqual([l for l in lines if len(l) > 100], [])
        self.assertEqual([l for l in lines if l.endswith(" ")], [])

    def test_diff_same(self):
        p = tbtest.tightbox("diff", CORRECTED, CORRECTED)
        self.assertEqual(p.returncode, 0)
        p = tbtest.tightbox("diff", "--json", SEED, CORRECTED)
        self.assertEqual(p.returncode, 1)
        d = json.loads(p.stdout)
        kinds = {(e["kind"], e["name"]) for e in d["differences"]}
        self.assertIn(("only-b", "newfstatat"), kinds)
        self.assertIn(("args", "clone"), kinds)
        self.assertIn(("action", "clone3"), kinds)


if __name__ == "__main__":
    tbtest.main()
