"""explain never proposes a change that removes the namespace guards (issue 9 item 4).

A program's clone(CLONE_NEWUSER|SIGCHLD) refused by the shipped default used to get the suggestion
`ALLOW clone if a0 == 0x10000011`, and on a profile without clone rules a plain `ALLOW clone`: under
libseccomp an unconditional allow replaces clone's EPERM rules, so clone(CLONE_NEWUSER) then
reached the kernel and explain said "No syscall was denied". Now: no suggestion for it, a warning
instead; a harmless clone is suggested only as `(flags & CLONE_NEW*) == 0`; audit reports an
unconditional allow that shadows argument rules, and diff shows the rule that takes effect.
"""
import json
import os
import shutil
import tempfile
import unittest

import tbtest

DEFAULT = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
# clone(flags) through syscall(2): glibc's fork would try clone3 first.
CLONE = ("import ctypes, os, sys\n"
         "libc = ctypes.CDLL(None, use_errno=True)\n"
         "flags = int(sys.argv[1], 0)\n"
         "r = libc.syscall(56, flags, 0, 0, 0, 0)\n"
         "if r == 0:\n    os._exit(0)\n"
         "if r > 0:\n    os.waitpid(r, 0)\n"
         "print('ok' if r > 0 else 'errno %d' % ctypes.get_errno())\n")


class ExplainCloneNamespaces(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        cls.tmp = tempfile.mkdtemp(prefix="tb-explain-clone-")
        with open(DEFAULT) as f:
            cls.default = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, prof):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(prof, f)
        return path

    def explain(self, prof, flags):
        res, _ = tbtest.command_json("explain", "--security-opt", "seccomp=" + prof, "--",
                                     tbtest.PYTHON, "-c", CLONE, hex(flags))
        return res

    def test_newuser_is_never_suggested(self):
        res = self.explain(DEFAULT, 0x10000000 | 17)
        self.assertEqual(res["stdout"], "errno 1\n", res)
        ex = res["explain"]
        self.assertEqual([d["syscall"] for d in ex["denials"]], ["clone"])
        self.assertEqual(ex["suggestion"], [])
        self.assertTrue(any("CLONE_NEWUSER is a dangerous argument value" in w for w in ex["warnings"]),
                        ex["warnings"])

    def test_profile_without_clone_rules(self):
        prof = dict(self.default)
        prof["syscalls"] = [r for r in self.default["syscalls"] if "clone" not in r["names"]]
        bare = self.write("no-clone.json", prof)
        # clone(CLONE_NEWUSER): ENOSYS from the default; still nothing to suggest.
        ex = self.explain(bare, 0x10000000 | 17)["explain"]
        self.assertEqual(ex["suggestion"], [])
        # A plain fork-like clone: suggested only without namespace flags.
        ex = self.explain(bare, 17)["explain"]
        rules = [r for r in ex["suggestion"] if "clone" in r["names"]]
        self.assertEqual(len(rules), 1, ex["suggestion"])
        self.assertEqual(rules[0]["args"], [{"index": 0, "op": "SCMP_CMP_MASKED_EQ",
                                             "value": 0x7E020000, "valueTwo": 0}])
        # Applied, the fork works and clone(CLONE_NEWUSER) still never reaches the kernel.
        prof["syscalls"] = prof["syscalls"] + ex["suggestion"]
        fixed = self.write("fixed.json", prof)
        res, _ = tbtest.run_json("--security-opt", "seccomp=" + fixed, "--", tbtest.PYTHON, "-c",
                                 CLONE, "17")
        self.assertEqual(res["stdout"], "ok\n", res)
        res, _ = tbtest.run_json("--security-opt", "seccomp=" + fixed, "--", tbtest.PYTHON, "-c",
                                 CLONE, hex(0x10000000 | 17))
        self.assertEqual(res["stdout"], "errno 38\n", res)

    def test_audit_and_diff_see_the_shadowing(self):
        prof = dict(self.default)
        prof["syscalls"] = self.default["syscalls"] + [{"names": ["clone"], "action": "SCMP_ACT_ALLOW"}]
        shadow = self.write("shadow.json", prof)
        p = tbtest.tightbox("audit", "--json", shadow)
        findings = json.loads(p.stdout)["findings"]
        hit = [f for f in findings if f["rule"] == "allow-shadows-args"]
        self.assertEqual(len(hit), 1, findings)
        self.assertEqual(hit[0]["severity"], "high")
        self.assertEqual(hit[0]["subject"], "clone")
        self.assertTrue(any(f["rule"] == "clone-namespaces" for f in findings))
        p = tbtest.tightbox("diff", "--json", DEFAULT, shadow)
        self.assertEqual(p.returncode, 1)
        diff = [d for d in json.loads(p.stdout)["differences"] if d["name"] == "clone"]
        self.assertEqual(len(diff), 1)
        self.assertRegex(diff[0]["b"], r"^allow \(syscalls\[\d+\], unconditional: replaces 8 argument rules\)$")
        # The profile really lets clone(CLONE_NEWUSER) through to the kernel now.
        res, _ = tbtest.run_json("--security-opt", "seccomp=" + shadow, "--", tbtest.PYTHON, "-c",
                                 CLONE, hex(0x10000000 | 17))
        self.assertNotEqual(res["stdout"], "errno 1\n", res)


if __name__ == "__main__":
    tbtest.main()
