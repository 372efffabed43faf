"""`asyncio.ThreadSafeFlag` for CPython: wake one asyncio task from anywhere.

On MicroPython this is how an irq handler wakes a task (aioble relies on it).
Here `set()` may be called from any thread, from a signal handler and from an
irq handler run by the main-thread scheduler, so it takes no lock: it sets the
flag, then asks the waiter's loop (via `call_soon_threadsafe`, which is safe
from all three) to resolve the waiter's future.  `wait()` registers its future
before looking at the flag, so a `set()` racing with it is never lost.
"""

from bleboard.runtime import scheduler as _sched

_DEBUG = _sched.DEBUG  # BLEBOARD_DEBUG: trace set/wake/wait (see scheduler.trace)

class ThreadSafeFlag:
    """A flag that one task awaits; `wait()` returns once it is set and clears it."""

    def __init__(self):
        self._flag = False
        self._waiter = None  # (loop, future) of the task inside wait()

    def set(self):
        """Set the flag and wake the waiting task, if any (any thread, signal or irq)."""
        self._flag = True
        waiter = self._waiter
        if _DEBUG:
            _sched.trace("flag set", "%x" % id(self), "waiter" if waiter else "no waiter")
        if waiter is not None:
            loop, future = waiter
            try:
                loop.call_soon_threadsafe(self._wake, future)
            except RuntimeError:
                pass  # that loop is closed: nobody is left to wake

    def clear(self):
        """Clear the flag (a later `wait()` blocks until the next `set()`)."""
        self._flag = False

    def is_set(self):
        return self._flag

    def _wake(self, future):
        # Runs on the waiter's loop; a clear() since set() cancels the wake-up.
        if _DEBUG:
            _sched.trace("flag wake", "%x" % id(self), self._flag, future.done())
        if self._flag and not future.done():
            future.set_result(None)

    async def wait(self):
        """Wait until the flag is set, then clear it. One waiter at a time."""
        if self._waiter is not None:
            raise RuntimeError("ThreadSafeFlag.wait: another task is already waiting")
        import asyncio  # here, so importing this module stays cheap

        loop = asyncio.get_running_loop()
        while not self._flag:
            future = loop.create_future()
            self._waiter = (loop, future)
            try:
                if not self._flag:
                    if _DEBUG:
                        _sched.trace("flag wait", "%x" % id(self))
                    await future
            finally:
                self._waiter = None
        if _DEBUG:
            _sched.trace("flag woke", "%x" % id(self))
        self._flag = False

    def __repr__(self):
        return "<ThreadSafeFlag %s>" % ("set" if self._flag else "clear")
