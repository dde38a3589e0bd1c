"""Workload: logging to a file and stderr, tracebacks, warnings."""
import contextlib
import io
import logging
import tempfile
import traceback
import warnings

with tempfile.NamedTemporaryFile("w+", dir="/tmp", suffix=".log") as f:
    log = logging.getLogger("wl")
    log.setLevel(logging.DEBUG)
    log.addHandler(logging.FileHandler(f.name))
    log.addHandler(logging.StreamHandler(io.StringIO()))
    log.info("hello %s", "world")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("boom")
        tb = traceback.format_exc()
    assert "ZeroDivisionError" in tb
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        warnings.warn("careful")
    assert w
    with contextlib.redirect_stdout(io.StringIO()):
        print("hidden")
    f.seek(0)
    assert "hello world" in f.read()
print("OK stdlib_logging")
