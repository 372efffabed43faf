"""The one way `_bleio` blocks: wait until a condition holds, an event wakes us, or time runs out.

CircuitPython's `_bleio` is synchronous; every blocking call here goes through `until()`.
Whoever changes state that a waiter may care about (the irq handler, a disconnect)
calls `notify()` afterwards, and every waiter re-checks its own condition.

CPython: each waiter parks on its own lock, and `notify()` releases every parked lock.
A release that happens before the waiter parks is not lost (the next acquire returns at
once), which matters because our irq handlers may run *on the waiting thread itself*
(from a signal, between the check and the wait) where a plain `threading.Condition`
would miss the wake-up. Lock waits are interrupted by signals, so handlers still run; a
signal that lands just before a wait starts is sent again by the scheduler's watchdog
(bleboard.runtime.scheduler), so no wait needs to poll.

MicroPython: events run while the program idles, so we idle in 1 ms steps until the
condition holds or the deadline passes, as board code does.
"""

import sys

if sys.implementation.name == "micropython":
    import time

    def notify():
        """Nothing to do on a board: waiters poll between events."""

    def until(condition, timeout):
        """Wait until `condition()` is true or `timeout` seconds passed (None: forever). Returns condition()."""
        if condition():
            return True
        start = time.ticks_ms()
        limit = None if timeout is None else int(timeout * 1000)
        while not condition():
            if limit is not None and time.ticks_diff(time.ticks_ms(), start) >= limit:
                return condition()
            time.sleep_ms(1)
        return True

    def new_lock():
        return _NoLock()

else:
    import threading
    import time

    _parked = []

    def notify():
        """Wake every waiter so it re-checks its condition. Safe from any thread and from handlers."""
        for lock in tuple(_parked):
            try:
                lock.release()
            except RuntimeError:
                pass  # already released: that waiter will re-check anyway

    def until(condition, timeout):
        """Wait until `condition()` is true or `timeout` seconds passed (None: forever). Returns condition()."""
        if condition():
            return True
        lock = threading.Lock()
        lock.acquire()
        _parked.append(lock)
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not condition():
                if deadline is None:
                    lock.acquire()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return condition()
                lock.acquire(True, remaining)
            return True
        finally:
            _parked.remove(lock)

    def new_lock():
        return threading.RLock()


class _NoLock:
    """Stand-in for a lock on boards without threads."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def sleep(seconds):
    """Pause without holding anything (used only for transmit back-off)."""
    until(_never, seconds)


def _never():
    return False
