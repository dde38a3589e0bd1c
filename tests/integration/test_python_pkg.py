#!/usr/bin/env python3
"""The Python package (bindings/python) against the real binary, with pytest.

Run by CTest as a script: it runs pytest on itself with an interpreter that has pytest (Debian's
python3-pytest), and exits 77 when none has or every test skipped.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE_DIR = os.environ.get("TB_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PKG_DIR = os.path.join(SOURCE_DIR, "bindings", "python")
sys.path.insert(0, PKG_DIR)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))

try:
    import pytest
except ImportError:  # only the __main__ runner below needs to work without it
    pytest = None

import tbtest  # noqa: E402
import tightbox  # noqa: E402

if pytest is not None:
    @pytest.fixture(autouse=True)
    def _root():
        if os.geteuid() != 0:
            pytest.skip("needs root (the working directory tmpfs, cgroups)")
        os.environ["TIGHTBOX"] = tbtest.TIGHTBOX


def test_run_returns_result():
    r = tightbox.run("import sys; print('hi'); print('err', file=sys.stderr)")
    assert isinstance(r, tightbox.Result)
    assert (r.stdout, r.stderr, r.exit_code, r.ok) == ("hi\n", "err\n", 0, True)
    assert r.limits is None and r.extra == {}
    assert r.wall_ms >= 0 and r.max_rss_kib > 0


def test_files_stdin_env_output_dir(tmp_path):
    code = ("import os, sys\nprint(open('data.csv').read().upper(), end='')\nprint(sys.stdin.read())\n"
            "print(os.environ['GREETING'])\nopen('out/result.txt', 'w').write('written')\n")
    r = tightbox.run(code, files={"data.csv": "a,b\n", "blob.bin": b"\x00"}, stdin="from stdin",
                     env={"GREETING": "hello"}, output_dir=str(tmp_path / "o"))
    assert r.stdout == "A,B\nfrom stdin\nhello\n", r
    assert r.stdin_bytes == len("from stdin")
    assert (tmp_path / "o" / "result.txt").read_text() == "written"
    assert r.output == {"files": 1, "bytes": 7, "skipped": []}


def test_outcomes_are_results_not_exceptions():
    r = tightbox.run("raise SystemExit(3)")
    assert (r.exit_code, r.ok) == (3, False)
    r = tightbox.run("import time; time.sleep(30)", timeout=0.5)
    assert r.timed_out and r.exit_code is None
    r = tightbox.run("x = bytearray(400 << 20)", memory="64m")
    assert r.oom_killed or "MemoryError" in r.stderr, r
    r = tightbox.run("import ctypes; ctypes.string_at(0)")  # a real fault (pid 1 ignores kill())
    assert r.signal == 11


def test_head_and_tail_keep_the_last_exception_line():
    code = "import sys\nfor i in range(500): print('noise', i, file=sys.stderr)\nraise ValueError('last')"
    r = tightbox.run(code)
    assert r.stderr.endswith("ValueError: last\n")
    assert r.stderr_truncated and r.stderr_omitted > 0


def test_typed_exceptions(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"defaultAction": ')
    with pytest.raises(tightbox.ProfileError) as e:
        tightbox.run("print(1)", profile=str(bad))
    assert e.value.exit_status == 125 and "bad.json" in e.value.message
    with pytest.raises(tightbox.ProfileError):
        tightbox.run("print(1)", profile=str(tmp_path / "missing.json"))
    with pytest.raises(tightbox.UsageError) as e:
        tightbox.run("print(1)", memory="10q")
    assert e.value.exit_status == 125 and "--memory" in e.value.message
    with pytest.raises(tightbox.UsageError):
        tightbox.run("print(1)", files={"../escape": "x"})
    with pytest.raises(tightbox.ExecError) as e:
        tightbox.run("print(1)", python="no-such-python")
    assert e.value.exit_status == 127
    with pytest.raises(tightbox.BinaryNotFound):
        tightbox.run("print(1)", tightbox=str(tmp_path / "nope"))
    # Every one of them is a TightboxError.
    assert issubclass(tightbox.SetupError, tightbox.TightboxError)
    assert issubclass(tightbox.Overloaded, tightbox.TightboxError)


def test_profile_is_enforced(tmp_path):
    with open(os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")) as f:
        prof = json.load(f)
    prof["syscalls"].insert(0, {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
    p = tmp_path / "p.json"
    p.write_text(json.dumps(prof))
    assert tightbox.run("import os; print(os.getppid())", profile=str(p)).stdout == "-1\n"


def test_result_keeps_unknown_fields():
    r = tightbox.Result.from_json({"stdout": "x", "exit_code": 0, "new_field": 1})
    assert r.extra == {"new_field": 1} and r.ok


def test_client_address_forms():
    with pytest.raises(ValueError):
        tightbox.Client("ftp://example")
    with pytest.raises(tightbox.Unavailable):
        tightbox.Client("/nonexistent/serve.sock").health()


def test_pip_install(tmp_path):
    """`pip install` of the package works offline (Debian's setuptools) and ships py.typed."""
    target = tmp_path / "site"
    # setuptools builds in the source folder: build a copy, so the tree stays clean.
    src = tmp_path / "src"
    shutil.copytree(PKG_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                        "--no-index", "--quiet", "--target", str(target), str(src)],
                       capture_output=True, text=True, cwd=str(tmp_path))
    if p.returncode != 0 and "No module named pip" in p.stderr:
        pytest.skip("pip is not installed for " + sys.executable)
    assert p.returncode == 0, p.stderr
    assert (target / "tightbox" / "py.typed").exists()
    code = "import tightbox, sys; print(tightbox.__file__); print(tightbox.run('print(5)').stdout, end='')"
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(target / "tightbox" / "__init__.py"), "5"]


def _main():
    """Runs pytest on this file with an interpreter that has it; exit 77 when none has."""
    for py in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([py, "-c", "import pytest"], capture_output=True).returncode == 0:
            break
    else:
        print("SKIPPED: pytest is not installed (Debian: python3-pytest)")
        return 77
    with tempfile.TemporaryDirectory(prefix="tb-pytest-") as cache:
        p = subprocess.run([py, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--basetemp",
                            os.path.join(cache, "t"), os.path.abspath(__file__)],
                           capture_output=True, text=True, cwd=cache)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode == 0 and " passed" not in p.stdout.splitlines()[-1]:
        return 77  # everything skipped
    return 1 if p.returncode else 0  # 5 (no tests collected) is a failure too


if __name__ == "__main__":
    sys.exit(_main())
