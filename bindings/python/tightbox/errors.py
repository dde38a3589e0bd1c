"""Exceptions raised when tightbox itself fails (never for what the sandboxed code does)."""
from __future__ import annotations

from typing import Any, Dict, Optional


class TightboxError(Exception):
    """Base class: tightbox could not run the code as asked.

    ``exit_status`` is the CLI's exit status (125, 126, 127) when the binary was run,
    ``http_status`` the server's status code when a server was asked, ``result`` the JSON the
    CLI or the server returned (may be None).
    """

    def __init__(self, message: str, *, exit_status: Optional[int] = None,
                 http_status: Optional[int] = None, result: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status
        self.http_status = http_status
        self.result = result


class BinaryNotFound(TightboxError):
    """The tightbox binary is not in $TIGHTBOX or on PATH (or is not executable)."""


class UsageError(TightboxError):
    """A value was refused before anything ran (CLI exit 125 for a bad flag, HTTP 400)."""


class ProfileError(UsageError):
    """The seccomp profile is missing, unreadable or malformed (CLI exit 125), or a server does
    not know the profile's name (HTTP 400). Nothing ran."""


class SetupError(TightboxError):
    """The sandbox could not be set up (CLI exit 125: a namespace, mount, cgroup or filter step
    failed). Nothing of the code ran."""


class ExecError(TightboxError):
    """The interpreter could not be executed (CLI exit 126) or was not found (127)."""


class ServerError(TightboxError):
    """The server failed (HTTP 5xx) or answered something that is not a tightbox result."""


class AuthError(TightboxError):
    """The server refused the bearer token (HTTP 401)."""


class RequestTooLarge(UsageError):
    """The request body is larger than the server's --max-body (HTTP 413)."""


class Overloaded(TightboxError):
    """Every worker is busy and the queue is full (HTTP 429). Retry after ``retry_after`` s."""

    def __init__(self, message: str, *, retry_after: float = 1.0, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Unavailable(TightboxError):
    """The server is draining (HTTP 503) or cannot be reached."""
