"""The board's console: sys.stdout/sys.stderr set up for a runner reading lines.

Buffering: line buffered by default (a board shows each line as it is
printed); with -u / PYTHONUNBUFFERED nothing is buffered, like `python -u`.

Whole lines: irq handlers run from a signal handler on the main thread, i.e.
between any two bytecodes of the program -- also in the middle of a `print`,
between its text and its newline, or inside the write itself (pipe full, the
write gets EINTR; a handler that prints then makes CPython raise "reentrant
call inside BufferedWriter" and the line is lost).  So `print` and every
write to sys.stdout/sys.stderr defer irq delivery until they are complete
(the effect of `scheduler.hold()`): a handler due meanwhile runs right after
the whole line, and lines from the program and from handlers never mix.
"""

import builtins
import io
import sys
from threading import get_ident


class _Guard:
    """`scheduler.hold()` written out inline: it runs for every print, and the
    context-manager version tripled print's cost.  Reads the scheduler's
    `_held`, `_running`, `_queue`, `_main_ident`, `mode` (see docs/threading.md, "Held calls")."""

    def __init__(self, sched):
        self.sched = sched
        self.main = sched._main_ident if sched.mode == "main" else None

    def call(self, fn, *args, **kwargs):
        sched = self.sched
        if get_ident() != self.main:
            return fn(*args, **kwargs)
        sched._held += 1
        try:
            return fn(*args, **kwargs)
        finally:
            sched._held -= 1
            if not sched._held and not sched._running and sched._queue:
                sched.drain()


class HeldStream:
    """A text stream whose writes defer irq delivery until they are complete."""

    def __init__(self, stream, guard):
        self._stream = stream
        self._sched = guard.sched
        self._main = guard.main
        self._call = guard.call

    def write(self, text):
        if self._sched._held or get_ident() != self._main:
            return self._stream.write(text)  # already held (inside print) or another thread
        return self._call(self._stream.write, text)

    def writelines(self, lines):
        return self._call(self._stream.writelines, lines)

    def flush(self):
        return self._call(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __repr__(self):
        return repr(self._stream)


def setup_buffering(unbuffered):
    """Line-buffered stdout by default; `unbuffered`: nothing buffered (as `python -u`)."""
    if sys.stdout is None:
        return
    if not unbuffered:
        try:
            sys.stdout.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
        return
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None or isinstance(getattr(stream, "buffer", None), io.FileIO):
            continue  # already unbuffered (the interpreter saw PYTHONUNBUFFERED)
        stream.flush()
        raw = io.FileIO(fd, "wb", closefd=False)
        new = io.TextIOWrapper(raw, encoding=stream.encoding, errors=stream.errors, write_through=True)
        setattr(sys, name, new)
        setattr(sys, "__%s__" % name, new)


_original_print = builtins.print


def guard(sched):
    """Make `print` and sys.stdout/sys.stderr writes whole with respect to irq handlers."""
    g = _Guard(sched)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, HeldStream):
            setattr(sys, name, HeldStream(stream, g))
    original = _original_print
    main = g.main

    def print(*args, **kwargs):  # replaces the builtin on purpose
        if get_ident() != main:
            return original(*args, **kwargs)
        sched._held += 1
        try:
            return original(*args, **kwargs)
        finally:
            sched._held -= 1
            if not sched._held and not sched._running and sched._queue:
                sched.drain()

    print.__doc__ = _original_print.__doc__
    builtins.print = print
