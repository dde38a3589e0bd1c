# SPDX-License-Identifier: Apache-2.0
# The two-phase bootstrap (runner/two-phase.c): run as `python3 -I -c <this file> FD NR PRELOAD
# WARM SCRIPT [ARGS...]` (or `... PRELOAD WARM -m MODULE [ARGS...]`) inside the sandbox, under the
# phase-1 filter.
#
# 1. imports the PRELOAD modules (comma-separated), with a sys.path that holds neither the working
#    directory nor the script's: a file the user controls (a numpy.py in a volume) is never
#    imported in phase 1;
# 1b. WARM "1" (`run --warm`, the pool of `serve --pool`, runner/warm.c): prepares step 2, writes
#    one byte to fd 0, a socket tightbox holds ("ready"), and blocks reading the request from it
#    until EOF: a JSON object {"code", "stdin", "env", "files", "output"}. It writes the files and
#    the code (as SCRIPT) into the working directory, puts stdin on fd 0 (a nameless O_TMPFILE
#    file, or /dev/null) and the env into os.environ. No code of the request runs before step 3;
# 2. reads the phase-2 BPF program from FD (a sealed, read-only memfd), closes FD and stacks the
#    program with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): NR is the seccomp
#    syscall number, which tightbox took from libseccomp. TSYNC puts the threads the preloads
#    started (OpenBLAS) under phase 2 as well. Filters only stack: nothing can remove it later;
# 3. runs SCRIPT as `python3 SCRIPT ARGS` would (a file, a directory or zip with __main__.py, or
#    `-m MODULE`): sys.argv, sys.path[0], __file__, a fresh __main__ module, the traceback of an
#    uncaught exception, SystemExit's status and KeyboardInterrupt's SIGINT; PYTHONPATH, which -I
#    ignored at start-up, is added to sys.path then. Step 3 is runner/python-main.py, which
#    runner/CMakeLists.txt appends to this file (the Python-context bootstrap shares it); a warm
#    run ends through _warm_exit below instead of CPython's full teardown.
#
# Under explain and record, runner/python-context.py comes first (runner/CMakeLists.txt): the
# Python context is set up before step 1, so the preloads' imports have their chains, and the
# user phase starts where step 3 starts the program.
#
# Any failure before step 3 exits with status 125 and one line on stderr: user code never runs
# without phase 2. Only this function's locals hold the bootstrap's state (the function is gone
# before the script starts), and the bootstrap's own __main__ module is replaced by a fresh one.


def _tightbox_setup():
    import sys

    def fail(what):
        import os

        try:
            os.write(2, ("tightbox: two-phase: %s; the program was not run\n" % what).encode())
        finally:
            os._exit(125)

    # explain and record (runner/CMakeLists.txt puts python-context.py in front of this file):
    # the Python context from here on, the preloads' imports included; informational only.
    enter = None
    if "_tightbox_context" in globals() and sys.version_info >= (3, 8):
        try:
            enter = _tightbox_context(sys, sys._getframe())  # noqa: F821 - python-context.py's
        except Exception:  # noqa: BLE001 - the program runs anyway, without context
            enter = None
    try:
        import os

        fd, nr, preload, warm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
        script, args = sys.argv[5], sys.argv[6:]
    except Exception as e:  # noqa: BLE001 - any malformed bootstrap command
        fail("bad bootstrap arguments (%r)" % (e,))
    # -I already leaves out '' and the script directory; drop them again for older Pythons.
    sys.path[:] = [p for p in sys.path if p and p != os.getcwd()]
    for name in filter(None, preload.split(",")):
        try:
            __import__(name)
        except BaseException as e:  # noqa: BLE001 - a preload failing is a start-up failure
            fail("--preload %s failed: %s: %s" % (name, type(e).__name__, e))
    try:
        import ctypes

        size = os.fstat(fd).st_size
        data = b""
        while len(data) < size:
            chunk = os.pread(fd, size - len(data), len(data))
            if not chunk:
                break
            data += chunk
        os.close(fd)
        if not data or len(data) % 8 or len(data) // 8 > 0xFFFF:
            fail("the phase-2 program is malformed (%d bytes)" % len(data))

        class FProg(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        insns = ctypes.create_string_buffer(data, len(data))
        prog = FProg(len(data) // 8, ctypes.addressof(insns))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - fail closed on anything
        fail("cannot prepare the phase-2 filter: %s: %s" % (type(e).__name__, e))
    if warm == "1":
        try:
            import json

            os.write(0, b"R")
            chunks = []
            while True:
                chunk = os.read(0, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            req = json.loads(b"".join(chunks))
            if not isinstance(req, dict) or not isinstance(req.get("code"), str) or set(req) - {
                    "code", "stdin", "env", "files", "output"}:
                raise ValueError("expected an object with code, stdin, env, files, output")
            if not req.get("output"):
                # tightbox made /sandbox/out for the copy-out; a run that does not ask for its
                # output finds no such directory, as a cold one.
                try:
                    os.rmdir(os.path.join(os.path.dirname(script), "out"))
                except OSError:
                    pass
            files = dict(req.get("files") or {})
            files[os.path.basename(script)] = req["code"]
            for name, text in files.items():
                if not isinstance(text, str) or "/" in name or name.startswith("."):
                    raise ValueError("bad file %r" % (name,))
                with open(os.path.join(os.path.dirname(script), name), "xb") as f:
                    f.write(text.encode("utf-8", "surrogatepass"))
            data = req.get("stdin")
            if data is None:
                new = os.open("/dev/null", os.O_RDONLY)
            else:
                new = os.open(os.path.dirname(script), os.O_TMPFILE | os.O_RDWR, 0o600)
                data = memoryview(data.encode("utf-8", "surrogatepass"))
                while data:
                    data = data[os.write(new, data):]
                os.lseek(new, 0, os.SEEK_SET)
            os.dup2(new, 0)
            os.close(new)
            for k, v in (req.get("env") or {}).items():
                os.environ[str(k)] = str(v)
            del req, files, chunks, data
        except BaseException as e:  # noqa: BLE001 - a bad request is a start-up failure
            fail("warm: cannot take the request: %s: %s" % (type(e).__name__, e))
    try:
        # SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_TSYNC = 1 (linux/seccomp.h)
        r = libc.syscall(ctypes.c_long(nr), ctypes.c_long(1), ctypes.c_long(1), ctypes.byref(prog))
        if r != 0:
            err = ctypes.get_errno()
            fail("seccomp(SECCOMP_SET_MODE_FILTER) failed: %s" % (
                os.strerror(err) if r < 0 else "thread %d could not be synchronized" % r))
        del insns, prog, libc, FProg, ctypes
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - fail closed on anything
        fail("cannot install the phase-2 filter: %s: %s" % (type(e).__name__, e))

    # Phase 2 from here on: runner/python-main.py (appended to this file) runs the program as
    # `python3 SCRIPT` or `python3 -m MODULE` would. -I ignored PYTHONPATH at start-up (a
    # sitecustomize.py there would have run in phase 1); the program's imports see it as with
    # plain python3: made absolute, after sys.path[0].
    if "PYTHONPATH" in os.environ:
        sys.path[0:0] = [os.path.abspath(p) for p in os.environ["PYTHONPATH"].split(os.pathsep)]
    if script == "-m":
        if not args:
            fail("-m needs a module name")
        return "-m", args[0], args[1:], "insert", enter, None
    leave = _warm_exit(os.path.join(os.path.dirname(script), "out")) if warm == "1" else None
    return "script", script, args, "insert", enter, leave


def _warm_exit(out):
    # A warm sandbox is destroyed right after its one run, so tearing the interpreter down is
    # wasted time (most of a run with pandas loaded). What CPython's exit does that a run can see
    # is done here, in its order: the traceback of an uncaught exception, waiting for non-daemon
    # threads, atexit, flushing stdout and stderr, and the status (SystemExit's, 1, or 130 for a
    # KeyboardInterrupt as pid 1). Only when the code wrote into OUT (/sandbox/out, copied out
    # after the run) does this return, and CPython's full teardown runs, so that a file the code
    # left open is flushed there too.
    def done(exc):
        import os
        import sys

        try:
            if os.listdir(out):
                return
        except OSError:
            pass
        status = 0
        if isinstance(exc, SystemExit):
            code = exc.code
            if code is None:
                status = 0
            elif isinstance(code, int):
                status = code
            else:
                try:
                    sys.stderr.write("%s\n" % (code,))
                except BaseException:  # noqa: BLE001 - as CPython: the status stays 1
                    pass
                status = 1
        elif exc is not None:
            try:
                sys.excepthook(type(exc), exc, exc.__traceback__)
            except BaseException:  # noqa: BLE001 - CPython goes on to exit as well
                pass
            status = 130 if isinstance(exc, KeyboardInterrupt) else 1
        try:
            threading = sys.modules.get("threading")
            if threading is not None:
                threading._shutdown()
            import atexit

            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001 - CPython prints what an atexit call raised
            pass
        for f in (sys.stdout, sys.stderr):
            try:
                if f is not None:
                    f.flush()
            except BaseException:  # noqa: BLE001 - CPython exits 120 when a flush fails
                status = 120
        os._exit(status & 0xFF)

    return done
