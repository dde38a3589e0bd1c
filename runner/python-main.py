# SPDX-License-Identifier: Apache-2.0
# The second half of both Python bootstraps (runner/two-phase-bootstrap.py and
# runner/python-context.py; runner/CMakeLists.txt appends this file to each): runs the user's
# program the way `python3 [OPTIONS] SCRIPT|-c CODE|-m MODULE ARGS` would (a SCRIPT may be a
# directory or zip file with a __main__.py), after the first half's `_tightbox_setup()` returned
# (mode, target, args, path0, enter, leave):
#   mode    "script", "-c" or "-m"; target the file, the code or the module name;
#   path0   "insert": put the script's directory in front of sys.path (the interpreter ran with -I),
#           "replace": sys.path[0] is the '' that `python3 -c BOOTSTRAP` put there, replace it
#           with what CPython would have put there, None: leave sys.path alone (-I or -P given);
#   enter   called just before the first line of user code, or None;
#   leave   None, or called with the uncaught exception (None when there was none) after the
#           program, before CPython's own exit (a warm run's fast exit, two-phase-bootstrap.py).
# What the program sees: sys.argv, sys.path[0], a fresh __main__ module with the dunders CPython
# gives it, the traceback of an uncaught exception without any bootstrap frame, the exit status.
# Only one bootstrap frame (this "<string>" module) stays below the program's, as little as exec()
# allows; nothing of it is in the program's __main__.
_tightbox_dunders = {k: v for k, v in globals().items() if k[:2] == "__"}


def _tightbox_prepare(mode, target, args, path0, enter, leave, dunders):
    import sys

    main = type(sys)("__main__")
    main.__dict__.update(dunders)
    if "__annotations__" in dunders:
        main.__annotations__ = {}
    if mode == "-m":
        sys.argv[:] = ["-m"] + args  # runpy puts the module's file there, as for `python3 -m`
        try:
            first = sys.modules["posix"].getcwd()
        except OSError:
            first = None  # CPython then puts nothing in front of sys.path
    elif mode == "-c":
        sys.argv[:] = ["-c"] + args
        first = ""
    else:
        sys.argv[:] = [target] + args
        if sys.version_info >= (3, 9) and target[:1] != "/":
            # Since 3.9 the script's file name is made absolute, without normalizing it (and
            # kept relative when the working directory is unknown).
            try:
                target = sys.modules["posix"].getcwd() + "/" + target
            except OSError:
                pass
        if _tightbox_runs_main(target):
            # A directory or zip file with a __main__.py: CPython puts it first on sys.path and
            # runs its __main__ module through runpy.
            first, mode = target, "dir"
        else:
            real = (sys.modules.get("posixpath") or __import__("posixpath")).realpath(target)
            first = real.rpartition("/")[0] or "/"
    if path0 == "insert" and first is not None:
        sys.path.insert(0, first)
    elif path0 == "replace" and sys.path and sys.path[0] == "":
        if first is None:
            del sys.path[0]
        else:
            sys.path[0] = first
    sys.modules["__main__"] = main
    if mode in ("-m", "dir"):
        if enter:
            enter()
        return None, ((target,) if mode == "-m" else ("__main__", False)), leave
    if mode == "script":
        main.__file__ = target
        main.__cached__ = None
        main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__",
                                                                                   target)
        # Read as CPython reads a script (_Py_fopen_obj: open, then ioctl(FIOCLEX) to make it
        # non-inheritable, fstat, reads), so that a recording made through this bootstrap holds
        # the calls the program makes without it.
        posix = sys.modules["posix"]
        try:
            fd = posix.open(target, posix.O_RDONLY)
            try:
                posix.set_inheritable(fd, False)
                posix.fstat(fd)
                chunks = []
                while True:
                    chunk = posix.read(fd, 1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
                source = b"".join(chunks)
            finally:
                posix.close(fd)
        except OSError as e:
            prog = getattr(sys, "orig_argv", [sys.executable])[0]  # as CPython names itself
            sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n" % (prog, target, e.errno,
                                                                        e.strerror))
            sys.exit(2)
    else:
        source = target
    try:
        code = compile(source, target if mode == "script" else "<string>", "exec",
                       dont_inherit=True)
    except SyntaxError as e:
        e.__traceback__ = None  # CPython prints no traceback for these
        sys.excepthook(type(e), e, None)
        sys.exit(1)
    if enter:
        enter()
    return code, main.__dict__, leave


def _tightbox_runs_main(path):
    # CPython asks sys.path_hooks for an importer of the path: a directory, or a zip file
    # (zipimport takes any, with or without a prefix such as a zipapp's #! line, or a comment).
    # Only regular files are tried as zips: a FIFO is read once.
    import sys

    try:
        kind = sys.modules["posix"].stat(path).st_mode & 0o170000  # S_IFMT
    except OSError:
        return False
    if kind == 0o040000:  # S_IFDIR
        return True
    if kind != 0o100000:  # S_IFREG
        return False
    try:
        return bool(__import__("zipimport").zipimporter(path))
    except Exception:  # noqa: BLE001 - not a zip file: a script
        return False


# The program runs from this module level, not from inside a function.
_tightbox_code, _tightbox_globals, _tightbox_leave = _tightbox_prepare(*_tightbox_setup(), _tightbox_dunders)
del _tightbox_prepare, _tightbox_setup, _tightbox_dunders, _tightbox_runs_main
try:
    if _tightbox_code is None:
        __import__("runpy")._run_module_as_main(*_tightbox_globals)
    else:
        exec(_tightbox_code, _tightbox_globals)
except BaseException as _tightbox_e:  # noqa: BLE001 - re-raised as it came
    # Without this module's frame, the exception goes on to CPython as the program's own: the
    # same traceback, SystemExit's status, KeyboardInterrupt's SIGINT.
    _tightbox_e.__traceback__ = _tightbox_e.__traceback__.tb_next
    if _tightbox_leave is not None:
        _tightbox_leave(_tightbox_e)  # a warm run ends here, unless it wrote into /sandbox/out
    if __import__("sys").version_info < (3, 11):
        # Before 3.11 a bare raise re-raises the except clause's traceback: drop the frame in
        # the hook CPython calls to print it.
        def _tightbox_hook(t, v, tb, hook=__import__("sys").excepthook):
            if tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
                tb = tb.tb_next
            hook(t, v.with_traceback(tb) if isinstance(v, BaseException) else v, tb)

        __import__("sys").excepthook = _tightbox_hook
    raise
if _tightbox_leave is not None:
    _tightbox_leave(None)
