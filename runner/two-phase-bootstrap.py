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
#    ignored at start-up, is added to sys.path then. Step 3 is runner/python-main.py, which
#    runner/CMakeLists.txt appends to this file (the Python-context bootstrap shares it).
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

    # Phase 2 from here on: runner/python-main.py (appended to this file) runs the program as
    # `python3 SCRIPT` or `python3 -m MODULE` would. -I ignored PYTHONPATH at start-up (a
    # sitecustomize.py there would have run in phase 1); the program's imports see it as with
    # plain python3: made absolute, after sys.path[0].
    if "PYTHONPATH" in os.environ:
        sys.path[0:0] = [os.path.abspath(p) for p in os.environ["PYTHONPATH"].split(os.pathsep)]
    if script == "-m":
        if not args:
            fail("-m needs a module name")
        return "-m", args[0], args[1:], "insert", None
    return "script", script, args, "insert", None
