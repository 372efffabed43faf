"""Run callbacks the way MicroPython runs irq handlers and scheduled functions.

On a board, BLE events and `micropython.schedule` callbacks run on the main
thread, one at a time, in order, between bytecodes and while the program
sleeps or waits.  On CPython we get the same with a signal: a producer thread
queues the callback and sends SIGUSR1 to the main thread; Python runs signal
handlers on the main thread between bytecodes, and interrupts sleeps, lock
waits and blocking reads (PEP 475 retries them afterwards, so the program does
not notice).

While the main thread is inside a `bluetooth` call (see `hold()`), delivery is
deferred to the end of the call: a BLE method is atomic on a board, and the
port's locks must not be re-entered from a handler.

A signal can land just after the interpreter's last check for pending signals and just
before a blocking C call (a lock wait with a timeout, say): that wait is then not
interrupted, and the callbacks would sit until it ends by itself. A small watchdog
thread re-sends the signal every few milliseconds while callbacks are queued, nothing
has run since, and the main thread is neither draining nor inside a held call; the
second signal finds the main thread inside the wait and interrupts it.

Where the main thread cannot take callbacks (the scheduler was created off the
main thread, or the program owns SIGUSR1), a dispatcher thread runs them,
still one at a time and in order.
"""

import collections
import os
import signal
import sys
import threading
import time
import traceback

WAKE_SIGNAL = signal.SIGUSR1
# CPython 3.11 only: a traced thread entering a function while a signal waits for the main
# thread goes back to the same RESUME instruction until the main thread has run the handler
# (DO_TRACING -> eval breaker -> DO_TRACING ...), holding the GIL except at switch intervals.
_TRACE_SPINS = sys.version_info[:2] == (3, 11)
RESIGNAL_FIRST_S = 0.0005  # first look, soon after a wake-up signal was sent
RESIGNAL_S = 0.005  # the longest a queued callback waits before the watchdog signals again

# BLEBOARD_DEBUG=1 records every step of the wake-up path (kick, re-check, signal, drain,
# ThreadSafeFlag set/wake) in a ring buffer, printed to stderr at exit: a lost wake-up shows
# as a gap in it. Any other value is a file name prefix: the trace goes to PREFIX.PID instead
# (a test runner comparing a board's output stays undisturbed). Steps run inside signal
# handlers, so recording does no I/O and takes no lock; when off, each site costs one
# global check.
_DEBUG_TO = os.environ.get("BLEBOARD_DEBUG", "")
DEBUG = bool(_DEBUG_TO) and _DEBUG_TO != "0"
_trace_log = collections.deque(maxlen=int(os.environ.get("BLEBOARD_DEBUG_DEPTH") or 20000))


class Scheduler:
    """A FIFO of callbacks run one at a time on one thread (main or dispatcher)."""

    def __init__(self, mode=None):
        self._queue = collections.deque()
        # Re-entrant: the wake-up signal handler may run drain() on the main thread
        # while that same thread is inside call() holding the lock.
        self._lock = threading.RLock()
        self._running = False  # a callback is being run (no re-entry)
        self._held = 0  # main thread is inside a bluetooth call
        self._signalled = False
        self._closed = False
        self._ran = 0  # callbacks run so far: the watchdog's measure of progress
        mode = mode or os.environ.get("BLEBOARD_IRQ", "") or "auto"
        if mode == "auto":
            mode = "main" if self._can_use_main_thread() else "thread"
        if mode not in ("main", "thread"):
            raise ValueError("BLEBOARD_IRQ must be 'main' or 'thread'")
        self.mode = mode
        self._wakeup = threading.Condition(self._lock)
        if mode == "main":
            self._main_ident = threading.main_thread().ident
            self._previous = signal.signal(WAKE_SIGNAL, self._on_signal)
            self._thread = None
            self._arm = threading.Lock()
            self._arm.acquire()  # released (armed) by each wake-up signal
            self._watchdog = threading.Thread(target=self._watch, name="bleboard-irq-watchdog", daemon=True)
            self._watchdog.start()
        else:
            self._main_ident = None
            self._thread = threading.Thread(target=self._thread_loop, name="bleboard-irq", daemon=True)
            self._thread.start()

    @staticmethod
    def _can_use_main_thread():
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            # SIG_IGN too: a closed scheduler leaves it (SIG_DFL would kill on a late signal).
            return signal.getsignal(WAKE_SIGNAL) in (signal.SIG_DFL, signal.SIG_IGN, None)
        except ValueError:
            return False

    # ---- producer side (any thread) ------------------------------------

    def call(self, fn, *args):
        """Queue `fn(*args)`; it runs soon, after everything queued before it."""
        with self._lock:
            if self._closed:
                return
            self._queue.append((fn, args))
            if self.mode == "thread":
                self._wakeup.notify()
                return
            if self._signalled:
                if DEBUG:
                    trace("queued", _name(fn, args), len(self._queue))
                return
            self._signalled = True
        if DEBUG:
            trace("queued+kick", _name(fn, args), len(self._queue))
        if threading.get_ident() == self._main_ident:
            # Queued from the main thread itself: run at the next safe point.
            if not self._held and not self._running:
                self.drain()
            return
        self._kick()

    def _kick(self):
        try:
            signal.pthread_kill(self._main_ident, WAKE_SIGNAL)
            if DEBUG:
                trace("signal sent")
        except (ProcessLookupError, OSError):
            pass  # the interpreter is shutting down
        loop = _running_loop()
        if loop is not None:
            # The usual producer is the radio thread's event loop: a timer there checks that
            # the wake-up arrived, without waking another thread for every event.
            loop.call_later(RESIGNAL_FIRST_S, self._recheck, loop, self._ran, RESIGNAL_FIRST_S)
            return
        try:
            self._arm.release()  # wake the watchdog thread: a plain lock, cheap to release
        except RuntimeError:
            pass  # already armed

    def _resignal_if_stuck(self, seen):
        """One look: None when nothing waits any more (or closed), else the progress count
        to compare next time; sends the wake-up again when nothing ran since `seen`."""
        with self._lock:
            if self._closed or not (self._signalled and self._queue):
                return None
            stuck = self._ran == seen and not self._running and not self._held
            if DEBUG:
                trace("re-check", "stuck" if stuck else "progress", self._ran, len(self._queue), self._running, self._held)
            seen = self._ran
        if stuck:
            try:
                signal.pthread_kill(self._main_ident, WAKE_SIGNAL)
            except (ProcessLookupError, OSError):
                return None
        return seen

    def _recheck(self, loop, seen, delay):
        """Loop timer: re-signal while callbacks wait and nothing ran since (see above)."""
        seen = self._resignal_if_stuck(seen)
        if seen is not None:
            delay = min(delay * 2, RESIGNAL_S)
            loop.call_later(delay, self._recheck, loop, seen, delay)

    def _watch(self):
        """The same re-check as a thread, for producers that run no event loop.

        The race is common, not rare: the radio thread gets the GIL exactly when the main
        thread drops it to block, and signals it at once. So the first retry comes quickly
        and later ones back off.
        """
        untraced_thread()
        while True:
            self._arm.acquire()
            if self._closed:
                return
            delay = RESIGNAL_FIRST_S
            seen = self._ran
            while seen is not None:
                time.sleep(delay)
                seen = self._resignal_if_stuck(seen)
                delay = min(delay * 2, RESIGNAL_S)
            if self._closed:
                return

    # ---- consumer side -------------------------------------------------

    def _on_signal(self, signum, frame):
        if DEBUG:
            trace("signal handler", _where(frame))
        self.drain()

    def drain(self):
        """Run queued callbacks unless we are inside a handler or a held call."""
        if self._running or self._held:
            if DEBUG:
                trace("drain deferred", "running" if self._running else "held", len(self._queue))
            return
        self._running = True
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._signalled = False
                        if DEBUG:
                            trace("drain done", self._ran)
                        return
                    fn, args = self._queue.popleft()
                if DEBUG:
                    trace("run", _name(fn, args))
                self._run_one(fn, args)
                self._ran += 1
        finally:
            self._running = False

    def _run_one(self, fn, args):
        try:
            fn(*args)
        except BaseException as exc:  # a handler error must not kill the stack
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) and self.mode == "main":
                raise
            print("Unhandled exception in scheduled callback", file=sys.stdout)
            traceback.print_exception(exc, file=sys.stdout)

    def _thread_loop(self):
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._wakeup.wait()
                if self._closed and not self._queue:
                    return
                fn, args = self._queue.popleft()
            self._running = True
            try:
                self._run_one(fn, args)
            finally:
                self._running = False

    # ---- critical sections on the main thread --------------------------

    def hold(self):
        """Context manager: defer delivery while the caller is inside a bluetooth call."""
        return _Hold(self)

    def on_consumer_thread(self):
        if self.mode == "main":
            return threading.get_ident() == self._main_ident
        return threading.current_thread() is self._thread

    def pending(self):
        with self._lock:
            return len(self._queue)

    def close(self):
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._wakeup.notify_all()
        if self.mode == "main":
            try:
                self._arm.release()  # let the watchdog see _closed and end
            except RuntimeError:
                pass
            try:
                if signal.getsignal(WAKE_SIGNAL) == self._on_signal:
                    # SIG_DFL would kill the process if a late producer still signals us.
                    previous = self._previous
                    if previous in (None, signal.SIG_DFL):
                        previous = signal.SIG_IGN
                    signal.signal(WAKE_SIGNAL, previous)
            except ValueError:
                pass


def untraced_thread():
    """Call first thing in a thread that produces wake-up signals (the radio loop, the
    watchdog): it drops the tracer or profiler that coverage.py or a debugger installs in
    every new thread. Under 3.11 such a thread spins while our signal is pending, and when
    that signal missed the main thread's wait (the race the re-check repairs), the thread
    that should re-send it is the one spinning: delivery stops until that wait times out.
    Coverage of the port's radio-side code is the price; handlers run on the main thread."""
    if _TRACE_SPINS:
        sys.settrace(None)
        sys.setprofile(None)


def _running_loop():
    """The asyncio loop running on this thread, if any (asyncio itself is not imported here)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Hold:
    __slots__ = ("_s", "_active")

    def __init__(self, sched):
        self._s = sched
        self._active = False

    def __enter__(self):
        s = self._s
        if s.mode == "main" and threading.get_ident() == s._main_ident:
            s._held += 1
            self._active = True
        return self

    def __exit__(self, *exc):
        if self._active:
            s = self._s
            s._held -= 1
            if not s._held and not s._running and s._queue:
                if DEBUG:
                    trace("drain after held call", len(s._queue))
                s.drain()
        return False


_default = None
_default_lock = threading.RLock()


def default():
    """The process-wide scheduler shared by `bluetooth` and `micropython.schedule`."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Scheduler()
        return _default


# ---- BLEBOARD_DEBUG tracing --------------------------------------------------


def trace(what, *detail):
    """Record one step (callers check DEBUG first, so this is never called when off)."""
    _trace_log.append((time.monotonic(), threading.current_thread().name, what, detail))


def _name(fn, args):
    """A short label for a queued callback: the irq event code when it is an irq delivery."""
    label = getattr(fn, "__qualname__", None) or repr(fn)
    if label.endswith("_deliver") and args:
        label += "(event %s)" % (args[0],)
    return label


def _where(frame):
    """What the main thread was doing when the signal handler ran: file:line function."""
    if frame is None:
        return "?"
    code = frame.f_code
    return "%s:%d %s" % (os.path.basename(code.co_filename), frame.f_lineno, code.co_name)


def trace_dump(file=None, last=None):
    """Print the recorded steps, oldest first, with times in ms relative to the first shown."""
    steps = list(_trace_log)
    if last is not None:
        steps = steps[-last:]
    if not steps:
        return
    file = file or sys.stderr
    t0 = steps[0][0]
    for t, thread, what, detail in steps:
        print("%10.3f %-22s %-18s %s" % ((t - t0) * 1000, thread[:22], what, " ".join(map(str, detail))), file=file)
    file.flush()


def trace_clear():
    _trace_log.clear()


def _dump_at_exit():
    if _DEBUG_TO == "1":
        trace_dump()
        return
    with open("%s.%d" % (_DEBUG_TO, os.getpid()), "w") as f:
        trace_dump(f)


if DEBUG:
    import atexit

    atexit.register(_dump_at_exit)
