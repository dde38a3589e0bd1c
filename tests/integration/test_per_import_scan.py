"""`generate --per-import DIR --scan SCAN` and `--imports` with static names (docs/generate.md).

Real recordings (ptrace backend, Python context) of tests/fixtures/pyctx/objs.py, which imports
json (_json), sqlite3 (_sqlite3 -> libsqlite3), uuid (_uuid -> libuuid) and the pure-Python pkg,
of usectypes.py (pkgc loads libraries with ctypes) and numpy when installed, and a real `tightbox scan --python` of the interpreter the sandbox runs. The fragments' static
names are checked against the scan's own per-object references; the composed profiles run the
real programs.
"""
import json
import os
import shutil
import subprocess

import tbtest

FIX_HOST = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "pyctx")
VOL = ["-v", FIX_HOST + ":/fx:ro"]
CG_PARENT = "tb-per-import-scan-%d" % os.getpid()
CG = ["--cgroup-parent", CG_PARENT]
DYNLOAD = "/lib-dynload/"


class PerImportScan(tbtest.CgroupParentCase):
    CG_PARENT = CG_PARENT
    TMP_PREFIX = "tb-per-import-scan-"
    NEEDS = ((tbtest.PYTHON, "the sandbox's Python"),)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.tmp.name
        p = tbtest.tightbox("scan", "-q", "--python", tbtest.PYTHON, "--packages", "numpy",
                            "-o", os.path.join(t, "scan.json"))
        if p.returncode != 0:
            raise AssertionError(p.stderr.decode())
        with open(os.path.join(t, "scan.json")) as f:
            cls.scan = json.load(f)
        cls.base = cls.record("base", "/fx/empty.py")
        cls.objs = cls.record("objs", "/fx/objs.py")
        cls.frag = os.path.join(t, "frag")
        cls.frag_rec = os.path.join(t, "frag-recorded")
        p = tbtest.tightbox("generate", "--per-import", cls.frag, "--scan",
                            os.path.join(t, "scan.json"), cls.objs)
        if p.returncode != 0:
            raise AssertionError(p.stderr.decode())
        cls.summary = p.stdout.decode()
        p = tbtest.tightbox("generate", "-q", "--per-import", cls.frag_rec, cls.objs)
        if p.returncode != 0:
            raise AssertionError(p.stderr.decode())

    @classmethod
    def record(cls, name, *args):
        out = os.path.join(cls.tmp.name, name + ".json")
        p = tbtest.tightbox("record", "--backend", "ptrace", *CG, *VOL, "-o", out, "--",
                            tbtest.PYTHON, *args)
        if p.returncode != 0:
            raise AssertionError(p.stderr.decode()[-2000:])
        return out

    def fragment(self, module, folder=None):
        with open(os.path.join(folder or self.frag, module + ".json")) as f:
            return json.load(f)

    def compose(self, name, modules, *opts, folder=None):
        out = os.path.join(self.tmp.name, name)
        p = tbtest.tightbox("generate", "-q", "--imports", modules, "--per-import-dir",
                            folder or self.frag, "-o", out, *opts, self.base)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return ["--security-opt", "seccomp=" + os.path.join(out, "seccomp.json")]

    def run_fx(self, prof, script):
        res, _ = tbtest.run_json(*CG, *VOL, *prof, "--", tbtest.PYTHON, "/fx/" + script)
        return res

    def scan_names_of(self, obj):
        """The scan's names with a reference from @obj, and how @obj reaches each."""
        out = {}
        for sc in self.scan["syscalls"]:
            for f in sc["from"]:
                if f["object"] == obj:
                    out[sc["name"]] = set(f["via"])
        return out

    def check_static(self, module, soname):
        """The fragment of @module loaded an extension of lib-dynload that pulls in @soname;
        its static names are exactly what the scan says its objects reach."""
        frag = self.fragment(module)
        ctx = frag["python_context"]
        exts = ctx["extensions"][module]
        self.assertTrue(exts and all(DYNLOAD in e and e.endswith(".so") for e in exts), exts)
        st = ctx["static"][module]
        self.assertEqual(st["arch"], "x86_64")
        lib = [o["path"] for o in self.scan["objects"] if o["soname"] == soname]
        self.assertEqual(len(lib), 1, soname)
        self.assertIn(lib[0], st["objects"])  # through the extension's DT_NEEDED
        for e in exts:
            self.assertIn(os.path.realpath(e), st["objects"])
        want = {}
        for obj in st["objects"]:
            for name, via in self.scan_names_of(obj).items():
                want.setdefault(name, set()).update(via)
        self.assertEqual({n: set(x["via"]) for n, x in st["syscalls"].items()}, want)
        for name, x in st["syscalls"].items():
            self.assertIn(x["object"], st["objects"], name)
        # The library's own names are there, and more than the import itself made.
        self.assertTrue(set(self.scan_names_of(lib[0])) <= set(st["syscalls"]))
        self.assertTrue(set(st["syscalls"]) - set(frag["syscalls"]["x86_64"]))
        return frag

    def test_extension_backed_imports(self):
        sq = self.check_static("sqlite3", "libsqlite3.so.0")
        self.assertIn("fdatasync", sq["python_context"]["static"]["sqlite3"]["syscalls"])
        self.assertNotIn("fdatasync", sq["syscalls"]["x86_64"])
        self.check_static("uuid", "libuuid.so.1")
        js = self.fragment("json")["python_context"]
        self.assertEqual([os.path.basename(e).split(".")[0] for e in js["extensions"]["json"]],
                         ["_json"])
        self.assertIn("wrote %s/sqlite3.json (" % self.frag, self.summary)
        self.assertIn("; static ", self.summary)

    def test_pure_python_import_has_no_objects(self):
        frag = self.fragment("pkg")
        ctx = frag["python_context"]
        self.assertNotIn("pkg", ctx.get("extensions", {}))
        st = ctx["static"]["pkg"]
        self.assertEqual((st["objects"], st["syscalls"]), ([], {}))
        self.assertIn("getcwd", frag["syscalls"]["x86_64"])  # pkg/b.py
        # Without --scan a fragment has the extensions but no static part.
        rec = self.fragment("sqlite3", self.frag_rec)["python_context"]
        self.assertNotIn("static", rec)
        self.assertTrue(rec["extensions"]["sqlite3"])

    def test_ctypes_libraries(self):
        # pkgc has no extension of its own: ctypes (a nested import, _ctypes -> libffi) and
        # the libraries it loads with ctypes.CDLL are its objects all the same.
        rec = self.record("ct", "/fx/usectypes.py")
        frag = os.path.join(self.tmp.name, "frag-ct")
        p = tbtest.tightbox("generate", "-q", "--per-import", frag, "--scan",
                            os.path.join(self.tmp.name, "scan.json"), rec)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        ctx = self.fragment("pkgc", frag)["python_context"]
        self.assertEqual([os.path.basename(e).split(".")[0] for e in ctx["extensions"]["pkgc"]],
                         ["_ctypes"])
        libs = {os.path.basename(x).split(".")[0] for x in ctx["libraries"]["pkgc"]}
        self.assertTrue({"libbz2", "libffi"} <= libs, libs)
        st = ctx["static"]["pkgc"]
        bz2 = [x for x in ctx["libraries"]["pkgc"] if "libbz2" in x][0]
        self.assertIn(bz2, st["objects"])
        self.assertTrue(set(self.scan_names_of(bz2)) <= set(st["syscalls"]))
        # A library outside the scan: said, and left out.
        jansson = [x for x in ctx["libraries"]["pkgc"] if "libjansson" in x]
        if jansson:
            self.assertIn(("note: %s is not in" % jansson[0]).encode(), p.stderr)
            self.assertNotIn(jansson[0], st["objects"])

    def test_numpy(self):
        if subprocess.run([tbtest.PYTHON, "-c", "import numpy"], capture_output=True).returncode:
            self.skipTest("python3-numpy is not installed")
        rec = self.record("np", "/fx/jsonnumpy.py")
        frag = os.path.join(self.tmp.name, "frag-np")
        p = tbtest.tightbox("generate", "-q", "--per-import", frag, "--scan",
                            os.path.join(self.tmp.name, "scan.json"), rec)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        st = self.fragment("numpy", frag)["python_context"]["static"]["numpy"]
        self.assertTrue(any("_multiarray_umath" in o for o in st["objects"]), st["objects"])
        for obj in st["objects"]:
            self.assertTrue(set(self.scan_names_of(obj)) <= set(st["syscalls"]), obj)

    def test_static_names_run_what_recorded_ones_do_not(self):
        # sqlite3 on disk syncs, locks and writes: no import made those calls, its library can.
        ok = self.run_fx(self.compose("sq-static", "sqlite3"), "sqdisk.py")
        self.assertEqual((ok["exit_code"], ok["stdout"]), (0, "[(42,)]\n"), ok["stderr"])
        for name, opts in (("sq-none", ("--static", "none")), ("sq-rec", ())):
            folder = self.frag if opts else self.frag_rec
            no = self.run_fx(self.compose(name, "sqlite3", *opts, folder=folder), "sqdisk.py")
            self.assertEqual(no["exit_code"], 1, no)
            self.assertIn("sqlite3.OperationalError: disk I/O error", no["stderr"])
        with open(os.path.join(self.tmp.name, "sq-static", "seccomp.json")) as f:
            self.assertIn("static: import sqlite3: libsqlite3.so", f.read())

    def test_missing_fragment_fails_the_program(self):
        # uuid's import calls uname; without its fragment the generated default answers ENOSYS.
        no = self.run_fx(self.compose("no-uuid", "json"), "useuuid.py")
        self.assertEqual(no["exit_code"], 1, no)
        self.assertIn("OSError: [Errno 38] Function not implemented", no["stderr"])
        yes = self.run_fx(self.compose("uuid", "json,uuid"), "useuuid.py")
        self.assertEqual((yes["exit_code"], yes["stdout"]),
                         (0, "00000000-0000-0000-0000-000000000005\n"), yes["stderr"])

    def generate(self, *args):
        return tbtest.tightbox("generate", *args)

    def test_bad_input(self):
        t = self.tmp.name
        out = os.path.join(t, "never")
        # Static names asked for, a fragment without them: the file and the key, exit 2.
        p = self.generate("--imports", "json", "--per-import-dir", self.frag_rec, "--static",
                          "safe", "-o", out, self.base)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(("%s/json.json: python_context.static.json: missing"
                       % self.frag_rec).encode(), p.stderr)
        # Not asked for: a note, and the recorded names.
        p = self.generate("-q", "--imports", "json", "--per-import-dir", self.frag_rec, "-o",
                          os.path.join(t, "noted"), self.base)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"has no static names", p.stderr)
        # Unknown import.
        p = self.generate("--imports", "json,nosuchmod", "--per-import-dir", self.frag, "-o",
                          out, self.base)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"no fragment for nosuchmod", p.stderr)
        # A fragment of another module under this module's name.
        bad = os.path.join(t, "frag-bad")
        os.makedirs(bad, exist_ok=True)
        shutil.copy(os.path.join(self.frag, "sqlite3.json"), os.path.join(bad, "uuid.json"))
        p = self.generate("--imports", "uuid", "--per-import-dir", bad, "-o", out, self.base)
        self.assertEqual(p.returncode, 2)
        self.assertIn(("%s/uuid.json: python_context.imports.uuid: missing" % bad).encode(),
                      p.stderr)
        # A malformed static part: the file and the JSON path.
        doc = self.fragment("sqlite3")
        doc["python_context"]["static"]["sqlite3"]["syscalls"]["fcntl"]["via"] = ["guess"]
        with open(os.path.join(bad, "sqlite3.json"), "w") as f:
            json.dump(doc, f)
        p = self.generate("--imports", "sqlite3", "--per-import-dir", bad, "-o", out, self.base)
        self.assertEqual(p.returncode, 2)
        self.assertIn(os.path.join(bad, "sqlite3.json").encode(), p.stderr)
        self.assertIn(b"python_context.static.sqlite3.syscalls.fcntl", p.stderr)
        # A scan that does not cover an extension the recording loaded: nothing is written.
        small = os.path.join(t, "small.json")
        p = tbtest.tightbox("scan", "-q", "-o", small, "/bin/true")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.generate("--per-import", out, "--scan", small, self.objs)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"the scan does not cover", p.stderr)
        self.assertIn(b"_json", p.stderr)
        # --static chooses when composing, not in a fragment.
        p = self.generate("--per-import", out, "--scan", small, "--static", "all", self.objs)
        self.assertEqual(p.returncode, 2)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    tbtest.main()
