# SPDX-License-Identifier: Apache-2.0
# The Python-context bootstrap (tracer/pyctx.c): `explain` and `record` run a Python program as
# `python3 [OPTIONS] -c <this file + python-main.py> MODE TARGET [ARGS...]` (MODE "script", "-c" or
# "-m"; "-c+" or "-m+" when TARGET was attached, "-cCODE") instead of `python3 [OPTIONS]
# TARGET|-c TARGET|-m TARGET [ARGS...]`, so that the tracer can name, at any syscall stop, where
# the Python program was. tracer/pyctx.c runs a child interpreter (a CPython >= 3.8 the program
# execs) the same way, by rewriting the exec's argv at its entry stop.
#
# Channel: each thread keeps its context in a bytearray of its own (BUF bytes, never resized, so
# its address stays) and tells the tracer where it is with a marker call, write(FD, buf, BUF),
# where FD is a descriptor no process can have (-29794 is above any RLIMIT_NOFILE): the kernel
# answers EBADF, the tracer stops at it (its filter traces exactly that call) and keeps the
# address for that thread. Afterwards the thread only rewrites its buffer (plain memory, no
# syscall), and the tracer reads it at the stops it cares about: the stopped thread cannot be
# halfway through an update, so the context is exact for the call it stopped at. A marker is also
# made when a top-level import starts and ends, which is how the recorder learns which calls each
# top-level import made; and an extension marker, write(FD, path, len(path)) with a length below
# BUF, just before a top-level import loads an extension module, tells it which files each import
# loaded. The buffer: b"TBPC", the text's length (4 bytes, little endian), and the text, lines
# "PHASE", "FILE:LINE" (the outermost frame in a user file, or ""), what that frame is from
# ("import" or the audit event), then the import chain, outermost first.
#
# Sources: the import stack from a wrapper around importlib's _find_and_load (CPython's C import
# code looks it up on each real load, 3.8 to 3.13), compiled as "<frozen importlib._bootstrap>" and
# named so that CPython strips its frame from import tracebacks as it strips importlib's; extension
# modules
# from a wrapper around ExtensionFileLoader's create_module/exec_module; the user's frame in user
# code from sys.addaudithook (open, socket.*, subprocess.Popen, os.*, ctypes.*, mmap...): CPython
# audits many operations but not every syscall, so in user code the frame is the one of the last
# audited operation of the thread, and the report says which operation that was.
#
# Nothing here changes what the program sees beyond what python-main.py documents: no module is
# imported, no file opened, no fd created; sys.orig_argv shows the command it replaced. Any failure
# leaves the program running without context: it is informational only.
FD = -29794
BUF = 4096


def _tightbox_setup():
    import sys

    mode, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    # MODE "-c+" or "-m+": the command had the code or module attached ("-cCODE").
    shown = [target] if mode == "script" else [mode[:2] + target] if mode[2:] else [mode, target]
    mode = mode[:2] if mode != "script" else mode
    orig = getattr(sys, "orig_argv", None)
    if orig is not None and len(orig) >= len(sys.argv) + 2:
        k = len(orig) - len(sys.argv) - 1  # orig[k] is "-c", orig[k + 1] this bootstrap
        sys.orig_argv = orig[:k] + shown + args
    enter = None
    if sys.version_info >= (3, 8):
        try:
            enter = _tightbox_context(sys, sys._getframe(1))
        except Exception:  # noqa: BLE001 - context is informational: the program runs anyway
            enter = None
    return mode, target, args, "replace", enter, None


def _tightbox_context(sys, root):
    import _thread

    write = sys.modules["posix"].write
    get_ident = _thread.get_ident
    getframe = sys._getframe
    bs = sys.modules["_frozen_importlib"]
    bse = sys.modules["_frozen_importlib_external"]
    stdlib = sys.modules["encodings"].__path__[0].rpartition("/")[0] + "/"
    states = {}
    phase = ["start-up"]
    libcache = {}
    # Events that are no operation of the program's own.
    quiet = frozenset(("sys._getframe", "object.__getattr__", "sys.addaudithook"))

    class State:
        __slots__ = ("stack", "buf", "frame", "event", "head")

    def is_lib(fn):
        r = libcache.get(fn)
        if r is None:
            r = libcache[fn] = (fn.startswith(stdlib) or fn.startswith("<frozen") or
                                "/site-packages/" in fn or "/dist-packages/" in fn)
        return r

    def flush(s, marker):
        lines = ["import" if s.stack else phase[0], s.frame, s.event]
        if s.stack:
            lines.append(s.head)
            lines.extend(s.stack[1:])
        text = "\n".join(lines).encode("utf-8", "replace")[:BUF - 8]
        data = b"TBPC" + len(text).to_bytes(4, "little") + text
        s.buf[0:len(data)] = data  # same length: the buffer never moves
        if marker:
            try:
                write(FD, s.buf)
            except OSError:
                pass

    def state():
        t = get_ident()
        s = states.get(t)
        if s is None:
            s = states[t] = State()
            s.stack, s.buf, s.frame, s.event, s.head = [], bytearray(BUF), "", "", ""
            flush(s, True)
        return s

    def outermost_user(f):
        # The outermost frame in a user file; code without a file ("<string>": a -c program, or
        # the -c line multiprocessing's spawn runs a worker with) only when no file frame is.
        found = code = None
        while f is not None and f is not root:
            fn = f.f_code.co_filename
            if not is_lib(fn):
                if fn[:1] == "<":
                    code = f
                else:
                    found = f
            f = f.f_back
        found = found or code
        return "%s:%d" % (found.f_code.co_filename, found.f_lineno) if found else ""

    def begin(s, name):
        f = getframe(2)  # the frame whose import statement (or __import__ call) this is
        while f is not None and f.f_code.co_filename.startswith("<frozen importlib"):
            f = f.f_back
        # The bootstrap's own imports (a two-phase run's preloads) name no line of it.
        where = "%s:%d " % (f.f_code.co_filename, f.f_lineno) if f is not None and f is not root \
            else ""
        s.head = "%simport %s" % (where, name)
        s.frame, s.event = outermost_user(f), "import"

    def enter():
        phase[0] = "user"
        s = state()
        s.frame, s.event = "", ""
        flush(s, True)

    busy = set()  # threads inside the hook: reading frames raises audit events of its own

    def hook(event, args):
        if phase[0] != "user" or event in quiet:
            return
        t = get_ident()
        if t in busy:
            return
        busy.add(t)
        try:
            s = state()
            if not s.stack:
                fr = outermost_user(getframe(1))
                if fr != s.frame or event != s.event:
                    s.frame, s.event = fr, event
                    flush(s, False)
        except Exception:  # noqa: BLE001 - never disturb the program
            pass
        finally:
            busy.discard(t)

    def loaded(path):  # an extension marker: the file the import in progress loads
        if state().stack:
            data = path.encode("utf-8", "surrogateescape")
            if 0 < len(data) < BUF:
                try:
                    write(FD, data)
                except OSError:
                    pass

    g = {"_state": state, "_begin": begin, "_flush": flush, "_loaded": loaded,
         "_orig": bs._find_and_load,
         "_cm": bse.ExtensionFileLoader.create_module, "_em": bse.ExtensionFileLoader.exec_module}
    # Named _call_with_frames_removed: CPython trims an import traceback's importlib chunk up to
    # a frame of that name (import.c, remove_importlib_frames), so an exception raised inside
    # importlib itself (not ImportError, not the module's code) shows no frame of ours either.
    exec(compile('''
def _call_with_frames_removed(*a, **k):
    s = _state()
    top = not s.stack
    if top:
        _begin(s, a[0])
    s.stack.append(a[0])
    _flush(s, top)
    try:
        return _orig(*a, **k)
    finally:
        s.stack.pop()
        if top:
            s.event = "import done"
        _flush(s, top)
''', "<frozen importlib._bootstrap>", "exec"), g)
    exec(compile('''
def _ext(orig, self, arg):
    s = _state()
    if not s.stack:
        return orig(self, arg)
    name = s.stack[-1]
    s.stack[-1] = name + " (extension)"
    _flush(s, False)
    try:
        return orig(self, arg)
    finally:
        s.stack[-1] = name
        _flush(s, False)
def create_module(self, spec):
    try:
        _loaded(self.path)
    except Exception:  # noqa: BLE001 - never disturb the program
        pass
    return _ext(_cm, self, spec)
def exec_module(self, module):
    return _ext(_em, self, module)
''', "<frozen importlib._bootstrap_external>", "exec"), g)
    state()
    sys.addaudithook(hook)
    bs._find_and_load = g["_call_with_frames_removed"]
    bse.ExtensionFileLoader.create_module = g["create_module"]
    bse.ExtensionFileLoader.exec_module = g["exec_module"]
    return enter
