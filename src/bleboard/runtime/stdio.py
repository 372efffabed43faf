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


class HeldStream:
    """A text stream whose writes defer irq delivery until they are complete."""

    def __init__(self, stream, sched):
        self._stream = stream
        self._hold = sched.hold

    def write(self, text):
        with self._hold():
            return self._stream.write(text)

    def writelines(self, lines):
        with self._hold():
            return self._stream.writelines(lines)

    def flush(self):
        with self._hold():
            return self._stream.flush()

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


def guard(sched):
    """Route sys.stdout/sys.stderr writes through `sched.hold()` (see module doc)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, HeldStream):
            setattr(sys, name, HeldStream(stream, sched))
