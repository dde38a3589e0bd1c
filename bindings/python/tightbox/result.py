"""The result of one sandboxed run: the fields of `tightbox run --json`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass(frozen=True)
class Result:
    """What the code did. See README.md ("The JSON result") for each field.

    Output beyond a limit keeps its first and last half with a marker line between them
    (``stdout_omitted`` bytes left out), so the last line of a traceback survives. ``output`` is
    {"files", "bytes", "skipped"} when an output_dir was given. ``exit_code`` is None when the code was killed by a signal (``signal``), which includes the
    timeout (``timed_out``) and the OOM killer (``oom_killed``). ``limits`` holds the limits a
    server applied (after clamping to its maxima), None for local runs; ``warm`` is True when the
    server ran the code in a sandbox of its warm pool (docs/serve-pool.md). Fields a newer tightbox
    adds that this version does not know are kept in ``extra``.
    """

    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_omitted: int = 0
    stderr_omitted: int = 0
    stdin_bytes: int = 0
    stdin_truncated: bool = False
    exit_code: Optional[int] = None
    signal: Optional[int] = None
    timed_out: bool = False
    oom_killed: bool = False
    wall_ms: int = 0
    cpu_ms: int = 0
    max_rss_kib: int = 0
    error: Optional[str] = None
    output: Optional[Dict[str, Any]] = None
    limits: Optional[Dict[str, Any]] = None
    warm: bool = False
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the code exited 0 (not killed, not timed out)."""
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed

    @classmethod
    def from_json(cls, obj: Dict[str, Any]) -> "Result":
        """Builds a Result from the JSON object tightbox printed or the server returned."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in obj.items() if k in names}
        extra = {k: v for k, v in obj.items() if k not in names}
        return cls(**known, extra=extra)
