"""The workload corpus (scripts/workloads/) under the shipped default, on a guest whose clock source
the vDSO cannot read: clock_gettime and friends reach the kernel here, so a default or a generated
profile that lacks them breaks `import logging` (time.time() -> OSError errno 38)."""
import concurrent.futures
import json
import os
import tempfile
import unittest

import tbtest
import vmlib

WORKLOADS = os.path.join(tbtest.SOURCE_DIR, "scripts", "workloads")
DEFAULT = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
CG = ("--cgroup-parent", vmlib.cgroup_parent("corpus"))


def setUpModule():
    vmlib.need_guest()


def tearDownModule():
    vmlib.remove_cgroup_parent(CG[1])


def allowed_names(profile):
    with open(profile) as f:
        p = json.load(f)
    return {n for r in p["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args") for n in r["names"]}


class VdsoBaseline(unittest.TestCase):
    def test_shipped_default_allows_the_vdso_calls(self):
        self.assertEqual(sorted(set(vmlib.VDSO_NAMES) - allowed_names(DEFAULT)), [])

    def test_import_logging(self):
        res = tbtest.run_py("import logging, time; logging.basicConfig(); logging.warning('at %f', time.time())",
                            *CG, *vmlib.SLOW)
        self.assertEqual(res["exit_code"], 0, res["stderr"])
        self.assertIn("WARNING:root:at ", res["stderr"])

    def test_generated_from_a_vdso_recording_allows_them(self):
        # A recording made where the vDSO answered (the golden fixture has no clock_gettime).
        rec = os.path.join(tbtest.SOURCE_DIR, "tests", "golden", "generate", "rec-hello.json")
        tbtest.need_file(rec, "golden recording")
        with tempfile.TemporaryDirectory() as d:
            p = tbtest.tightbox("generate", "-q", "-o", d, rec)
            self.assertEqual(p.returncode, 0, p.stderr)
            prof = os.path.join(d, "seccomp.json")
            self.assertEqual(sorted(set(vmlib.VDSO_NAMES) - allowed_names(prof)), [])
            res = tbtest.run_py('import time; print("hi", time.time() > 0, time.monotonic() > 0)',
                                "--security-opt", "seccomp=" + prof, *CG, *vmlib.SLOW)
            self.assertEqual(res["stdout"], "hi True True\n", res)


class Corpus(unittest.TestCase):
    """Each workload under `tightbox explain` with the shipped default: it exits 0 and nothing was
    denied (a call the vDSO hid where the corpus was recorded would show up here). Two at a time:
    the guest has two CPUs."""

    def test_workloads(self):
        names = sorted(f[:-3] for f in os.listdir(WORKLOADS) if f.endswith(".py"))
        self.assertTrue(names)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = dict(zip(names, pool.map(explain, names)))
        for name in names:
            with self.subTest(workload=name):
                res = results[name]
                # clone3 fails with ENOSYS on purpose (glibc then uses clone, which the profile filters).
                denied = [d for d in res["explain"]["denials"] if (d["syscall"], d["errno"]) != ("clone3", 38)]
                self.assertEqual([d["syscall"] for d in denied], [], "%s: the shipped default denied %s" % (
                    name, json.dumps([dict({k: d[k] for k in ("syscall", "count", "comm", "exe")},
                                     first=d["calls"][0]["call"] if d["calls"] else None) for d in denied])[:3000]))
                self.assertEqual(res["exit_code"], 0, "%s: %s" % (name, res["stderr"][-1500:]))


def explain(name):
    res, _ = tbtest.command_json("explain", *CG, *vmlib.SLOW, "--script", os.path.join(WORKLOADS, name + ".py"),
                                 timeout=300)
    return res


if __name__ == "__main__":
    tbtest.main()
