"""The board's console: sys.stdout/sys.stderr set up for a runner reading lines.

Buffering: line buffered by default (a board shows each line as it is
printed); with -u / PYTHONUNBUFFERED nothing is buffered, like `python -u`.

Re-entrancy: irq handlers run from a signal handler on the main thread.  If
the main thread is inside a write to stdout (the pipe is full, the write gets
EINTR) and the handler prints, CPython raises "reentrant call inside
BufferedWriter" and the line is lost.  So every write goes through
`scheduler.hold()`: a handler that becomes due during a write runs right after
it, which is also when a board would run it.
"""

import io
import sys
from threading import get_ident


class HeldStream:
    """A text stream whose writes defer irq delivery until they are complete.

    Same effect as wrapping each write in `sched.hold()`, written out inline
    (it runs for every print: the context-manager version tripled print's cost).
    """

    def __init__(self, stream, sched):
        self._stream = stream
        self._sched = sched
        self._main = sched._main_ident if sched.mode == "main" else None

    def _held(self, method, arg):
        sched = self._sched
        if get_ident() != self._main:
            return method(arg)
        sched._held += 1
        try:
            return method(arg)
        finally:
            sched._held -= 1
            if not sched._held and not sched._running and sched._queue:
                sched.drain()

    def write(self, text):
        return self._held(self._stream.write, text)

    def writelines(self, lines):
        return self._held(self._stream.writelines, lines)

    def flush(self):
        return self._held(_call, self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __repr__(self):
        return repr(self._stream)


def _call(fn):
    return fn()


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


def guard(sched):
    """Route sys.stdout/sys.stderr writes through `sched.hold()` (see module doc)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, HeldStream):
            setattr(sys, name, HeldStream(stream, sched))
