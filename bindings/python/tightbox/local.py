"""tightbox.run(): one sandboxed run through the tightbox binary (`tightbox run --json`)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Mapping, Optional, Sequence, Union

from .errors import BinaryNotFound, ExecError, ProfileError, SetupError, TightboxError, UsageError
from .result import Result

Content = Union[str, bytes]


def find_binary(tightbox: Optional[str] = None) -> str:
    """The tightbox binary: @tightbox, else $TIGHTBOX, else `tightbox` on PATH."""
    cand = tightbox or os.environ.get("TIGHTBOX") or shutil.which("tightbox")
    if not cand or not os.access(cand, os.X_OK):
        raise BinaryNotFound("tightbox binary not found (pass tightbox=, set $TIGHTBOX, or put it on PATH)")
    return cand


def _write(path: str, data: Content) -> None:
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def _check_name(name: str) -> None:
    if not name or "/" in name or ":" in name or name.startswith(".") or name in ("script.py", "out") \
            or "\0" in name:
        raise UsageError("files: %r is not a plain file name (one component, no leading '.', "
                         "not script.py or out)" % name)


def _failure(res: dict, status: int, profile: Optional[str]) -> TightboxError:
    """The typed exception for a run whose JSON has an error (tightbox itself failed)."""
    msg = res.get("error") or "tightbox failed (exit %d)" % status
    if status in (126, 127):
        return ExecError(msg, exit_status=status, result=res)
    if profile and (profile in msg or "seccomp profile" in msg):
        return ProfileError(msg, exit_status=status, result=res)
    if "sandbox setup failed" in msg or "cannot create" in msg or "cgroup" in msg:
        return SetupError(msg, exit_status=status, result=res)
    return UsageError(msg, exit_status=status, result=res)


def run(code: str, *, files: Optional[Mapping[str, Content]] = None, stdin: Optional[Content] = None,
        timeout: float = 10, memory: Union[str, int] = "256m", profile: Optional[str] = None,
        cpus: Optional[float] = None, pids_limit: Optional[int] = None,
        stdout_limit: Optional[int] = None, stderr_limit: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None, output_dir: Optional[str] = None,
        python: str = "python3",
        tightbox: Optional[str] = None, extra_args: Sequence[str] = ()) -> Result:
    """Runs Python source @code in the tightbox sandbox and returns its Result.

    files: name -> content, put beside the script in its working directory (/sandbox).
    stdin: what the code reads on standard input (default: nothing).
    timeout: wall-clock seconds (the whole process tree is killed); memory: "256m" or bytes;
    profile: a seccomp profile file (Docker/OCI JSON), default: tightbox's shipped one.
    cpus, pids_limit, stdout_limit, stderr_limit: as the `tightbox run` flags of those names.
    env: variables for the code (nothing of this process's environment is passed on).
    output_dir: a host directory; what the code writes to /sandbox/out is copied there after
    the run (regular files and directories, bounded; Result.output lists what was skipped).
    extra_args: more `tightbox run` flags, placed before the command.

    A non-zero exit, a timeout or an OOM kill is reported in the Result. Raises
    BinaryNotFound, ProfileError, UsageError, SetupError or ExecError when tightbox itself
    failed, so nothing (or not the code) ran.
    """
    binary = find_binary(tightbox)
    with tempfile.TemporaryDirectory(prefix="tightbox-py-") as tmp:
        # tightbox copies the script and the inputs into the run's own /sandbox: these private
        # (0600) files are never shown to the sandbox themselves.
        script = os.path.join(tmp, "script.py")
        _write(script, code)
        args = [binary, "run", "--json", "--timeout", "%g" % timeout, "--memory", str(memory),
                "--script", script]
        if profile is not None:
            if not os.path.exists(profile):
                raise ProfileError("profile %s: no such file" % profile)
            args += ["--security-opt", "seccomp=" + os.path.abspath(profile)]
        for flag, v in (("--cpus", cpus), ("--pids-limit", pids_limit),
                        ("--stdout-limit", stdout_limit), ("--stderr-limit", stderr_limit)):
            if v is not None:
                args += [flag, "%g" % v if isinstance(v, float) else str(v)]
        for k, v in (env or {}).items():
            args += ["-e", "%s=%s" % (k, v)]
        data = stdin.encode() if isinstance(stdin, str) else stdin
        if data is not None:
            # All of it reaches the code: the limit is what was given.
            args += ["-i", "--stdin-limit", str(max(len(data), 1))]
        if files:
            indir = os.path.join(tmp, "in")
            os.mkdir(indir)
            for name, content in files.items():
                _check_name(name)
                path = os.path.join(indir, name)
                _write(path, content)
                args += ["--input", "%s:%s" % (path, name)]
        if output_dir is not None:
            args += ["--output-dir", os.fspath(output_dir)]
        args += list(extra_args)
        args += ["--", python, "/sandbox/script.py"]
        p = subprocess.run(args, input=data, stdin=None if data is not None else subprocess.DEVNULL,
                           capture_output=True)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        raise TightboxError("tightbox printed no JSON result (exit %d): %s"
                            % (p.returncode, p.stderr.decode(errors="replace")[-2000:]),
                            exit_status=p.returncode) from None
    if res.get("error"):
        raise _failure(res, p.returncode, profile)
    return Result.from_json(res)
