# SPDX-License-Identifier: Apache-2.0
# The two-phase bootstrap (runner/two-phase.c): run as `python3 -I -c <this file> FD NR PRELOAD
# SCRIPT [ARGS...]` (or `... PRELOAD -m MODULE [ARGS...]`) inside the sandbox, under the phase-1
# filter.
#
# 1. imports the PRELOAD modules (comma-separated), with a sys.path that holds neither the working
#    directory nor the script's: a file the user controls (a numpy.py in a volume) is never
#    imported in phase 1;
# 2. reads the phase-2 BPF program from FD (a sealed, read-only memfd), closes FD and stacks the
#    program with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): NR is the seccomp
#    syscall number, which tightbox took from libseccomp. TSYNC puts the threads the preloads
#    started (OpenBLAS) under phase 2 as well. Filters only stack: nothing can remove it later;
# 3. runs SCRIPT as `python3 SCRIPT ARGS` would (a file, a directory or zip with __main__.py, or
#    `-m MODULE`): sys.argv, sys.path[0], __file__, a fresh __main__ module, the traceback of an
#    uncaught exception, SystemExit's status and KeyboardInterrupt's SIGINT; PYTHONPATH, which -I
#    ignored at start-up, is added to sys.path then.
#
# Any failure before step 3 exits with status 125 and one line on stderr: user code never runs
# without phase 2. Only this function's locals hold the bootstrap's state (the function is gone
# before the script starts), and the bootstrap's own __main__ module is replaced by a fresh one.


def _tightbox_two_phase():
    import sys

    def fail(what):
        import os

        try:
            os.write(2, ("tightbox: two-phase: %s; the program was not run\n" % what).encode())
        finally:
            os._exit(125)

    try:
        import os

        fd, nr, preload, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
        args = sys.argv[5:]
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

    # Phase 2 from here on. What `python3 SCRIPT` (or `python3 -m MODULE`) sets up, in the order
    # CPython does it (Modules/main.c, Python/pythonrun.c).
    import builtins
    import importlib.machinery
    import types

    # A fresh __main__ with what CPython's has before the script runs, in its order; the
    # bootstrap's own module (this code's globals) leaves sys.modules.
    main = types.ModuleType("__main__")
    main.__annotations__ = {}
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    # -I ignored PYTHONPATH at start-up (a sitecustomize.py there would have run in phase 1); the
    # script's imports see it as with plain python3: made absolute, after sys.path[0].
    if "PYTHONPATH" in os.environ:
        sys.path[0:0] = [os.path.abspath(p) for p in os.environ["PYTHONPATH"].split(os.pathsep)]
    if script == "-m":
        # As `python3 -m MODULE ARGS`: sys.path[0] is the working directory, sys.argv[0] "-m"
        # until runpy finds the module (then its file), and runpy reports a missing module.
        import runpy

        if not args:
            fail("-m needs a module name")
        sys.argv[:] = ["-m"] + args[1:]
        sys.path.insert(0, os.getcwd())
        return runpy._run_module_as_main, (args[0],), None
    # Python 3.9+ makes the script's name absolute (__file__, tracebacks), sys.argv[0] unchanged.
    filename = os.path.abspath(script) if sys.version_info >= (3, 9) else script
    sys.argv[:] = [script] + args
    if os.path.isdir(script) or _is_zip(script):
        # A directory or zip file with a __main__.py: CPython puts it first on sys.path and runs
        # its __main__ module through runpy.
        import runpy

        sys.path.insert(0, filename)
        return runpy._run_module_as_main, ("__main__", False), None
    sys.path.insert(0, os.path.dirname(os.path.realpath(script)))
    main.__file__ = filename
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", filename)
    try:
        with open(script, "rb") as f:
            source = f.read()
    except OSError as e:
        prog = getattr(sys, "orig_argv", [sys.executable])[0]  # as CPython names itself
        sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n" % (prog, filename, e.errno, e.strerror))
        sys.exit(2)
    return compile, (source, filename, "exec", 0, True), main.__dict__


def _is_zip(path):
    # CPython asks sys.path_hooks for an importer of the path: zipimport takes any zip file, with
    # or without a prefix (a zipapp's #! line) or comment. Only regular files: a FIFO is read once.
    import os
    import zipimport

    try:
        return os.path.isfile(path) and bool(zipimport.zipimporter(path))
    except Exception:  # noqa: BLE001 - not a zip file: a script
        return False


# The script runs from this module level, not from inside the function, so that one bootstrap
# frame (this "<string>" module) is all that lies below the script's. Its traceback is dropped from
# whatever the script raises, and the exception goes on to CPython as if the script had been
# `python3 FILE`'s: the same traceback (a SyntaxError from compile() has none), SystemExit's
# status, and an uncaught KeyboardInterrupt ending the process by SIGINT (exit 130 as pid 1).
_tightbox_run, _tightbox_args, _tightbox_globals = _tightbox_two_phase()
del _tightbox_two_phase, _is_zip
try:
    if _tightbox_globals is None:
        _tightbox_run(*_tightbox_args)
    else:
        exec(_tightbox_run(*_tightbox_args), _tightbox_globals)
except BaseException as _tightbox_e:  # noqa: BLE001 - re-raised as it came
    _tightbox_e.__traceback__ = _tightbox_e.__traceback__.tb_next
    if __import__("sys").version_info < (3, 11):
        # Before 3.11 a bare raise re-raises the traceback of the except clause, not the
        # exception's: drop the bootstrap's frame in the hook CPython calls to print it.
        def _tightbox_hook(t, v, tb, hook=__import__("sys").excepthook):
            if tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
                tb = tb.tb_next
            hook(t, v.with_traceback(tb) if isinstance(v, BaseException) else v, tb)

        __import__("sys").excepthook = _tightbox_hook
    raise
