"""tightbox.Client: runs through a `tightbox serve` server (unix socket or http://HOST:PORT)."""
from __future__ import annotations

import base64
import http.client
import json
import os
import socket
from typing import Any, Dict, Mapping, Optional, Union
from urllib.parse import urlsplit

from .errors import (AuthError, Overloaded, ProfileError, RequestTooLarge, ServerError, TightboxError,
                     Unavailable, UsageError)
from .result import Result


def _write_outputs(directory: str, files: Dict[str, str]) -> None:
    """Writes the server's output_files (relative path -> base64) below @directory, never
    outside it and never over an existing file."""
    root = os.path.realpath(directory)
    os.makedirs(root, exist_ok=True)
    for rel, b64 in files.items():
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ServerError("the server returned a bad output path %r" % rel)
        path = os.path.join(root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.realpath(os.path.dirname(path)) != os.path.join(root, *parts[:-1]).rstrip("/"):
            raise ServerError("output path %r leaves %s" % (rel, directory))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(b64))


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: Optional[float]):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class Client:
    """A `tightbox serve` server.

    url_or_socket: "/run/tightbox/serve.sock", "unix:///run/tightbox/serve.sock" or
    "http://127.0.0.1:8080". token: the server's bearer token (--token-file), if it has one.
    Each call opens its own connection, so one Client may be shared by threads.
    """

    def __init__(self, url_or_socket: str, *, token: Optional[str] = None):
        self.token = token
        if url_or_socket.startswith("unix:"):
            self._unix: Optional[str] = urlsplit(url_or_socket).path or url_or_socket[5:]
        elif url_or_socket.startswith("/"):
            self._unix = url_or_socket
        else:
            u = urlsplit(url_or_socket)
            if u.scheme != "http" or not u.hostname:
                raise ValueError("expected a socket path, unix:///PATH or http://HOST:PORT, got %r"
                                 % url_or_socket)
            self._unix = None
            self._host, self._port = u.hostname, u.port or 80

    def _conn(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        if self._unix is not None:
            return _UnixConnection(self._unix, timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _request(self, method: str, path: str, body: Optional[bytes] = None,
                 timeout: Optional[float] = 30) -> "tuple[int, Dict[str, str], bytes]":
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        c = self._conn(timeout)
        try:
            try:
                c.request(method, path, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                # The server answered before reading the whole body (413, 401): read that answer.
                pass
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        except (ConnectionError, FileNotFoundError, socket.timeout, http.client.HTTPException) as e:
            raise Unavailable("cannot reach the tightbox server: %s" % e) from e
        finally:
            c.close()

    def health(self) -> Dict[str, Any]:
        """GET /v1/health: {"status": "ok"|"draining", "workers", "running", "queued", ...}."""
        status, _, data = self._request("GET", "/v1/health")
        if status != 200:
            raise ServerError("health: HTTP %d" % status, http_status=status)
        return json.loads(data)

    def metrics(self) -> str:
        """GET /metrics: the Prometheus text."""
        status, _, data = self._request("GET", "/metrics")
        if status != 200:
            raise ServerError("metrics: HTTP %d" % status, http_status=status)
        return data.decode()

    def run(self, code: str, *, files: Optional[Mapping[str, str]] = None, stdin: Optional[str] = None,
            timeout: float = 10, memory: Union[str, int] = "256m", profile: Optional[str] = None,
            cpus: Optional[float] = None, pids_limit: Optional[int] = None,
            stdout_limit: Optional[int] = None, stderr_limit: Optional[int] = None,
            env: Optional[Mapping[str, str]] = None, output_dir: Optional[str] = None) -> Result:
        """POST /v1/run: as tightbox.run(), with the server's limits.

        The server lowers every limit to its --max-* (Result.limits says what was applied and
        which were clamped); profile names one of the server's profiles. Raises AuthError (401),
        RequestTooLarge (413), ProfileError/UsageError (400), Overloaded (429, with
        retry_after), Unavailable (503 or unreachable), ServerError (5xx). output_dir: a local
        directory; what the code wrote to /sandbox/out (up to 1 MiB, 100 files) is written there.
        """
        req: Dict[str, Any] = {"code": code, "timeout": timeout, "memory": memory}
        for k, v in (("files", dict(files) if files else None), ("stdin", stdin),
                     ("profile", profile), ("cpus", cpus), ("pids_limit", pids_limit),
                     ("stdout_limit", stdout_limit), ("stderr_limit", stderr_limit),
                     ("env", dict(env) if env else None), ("output", True if output_dir else None)):
            if v is not None:
                req[k] = v
        body = json.dumps(req).encode()
        # The server's maximum timeout is not known here: wait for the asked one plus slack.
        status, headers, data = self._request("POST", "/v1/run", body, timeout=timeout + 60)
        try:
            obj = json.loads(data) if data else {}
        except ValueError:
            obj = {}
        msg = obj.get("error") or "HTTP %d" % status
        if status == 200:
            if output_dir is not None:
                _write_outputs(output_dir, obj.pop("output_files", None) or {})
            return Result.from_json(obj)
        if status == 401:
            raise AuthError(msg, http_status=status)
        if status == 413:
            raise RequestTooLarge(msg, http_status=status)
        if status == 400:
            cls = ProfileError if msg.startswith("profile") else UsageError
            raise cls(msg, http_status=status)
        if status == 429:
            try:
                retry = float(headers.get("retry-after", "1"))
            except ValueError:
                retry = 1.0
            raise Overloaded(msg, retry_after=retry, http_status=status)
        if status == 503:
            raise Unavailable(msg, http_status=status)
        if status >= 500:
            raise ServerError(msg, http_status=status, result=obj or None)
        raise TightboxError(msg, http_status=status, result=obj or None)
