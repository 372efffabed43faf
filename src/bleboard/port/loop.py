"""The radio thread: one asyncio loop per process that owns every Bumble object.

API calls arrive from the main thread (or any other) and are handed over with
`run()` (wait for the answer, with a timeout) or `spawn()` (fire and forget, errors
reported). The thread is a daemon so it never keeps a program alive, and `shutdown()`
(registered with atexit) closes every port cleanly so a shared radio sees the board
leave instead of a broken pipe.
"""

import asyncio
import atexit
import collections
import concurrent.futures
import logging
import threading

from bleboard.runtime.scheduler import untraced_thread
from bluetooth._port import ETIMEDOUT, PortError

log = logging.getLogger("bleboard.port")

DEFAULT_TIMEOUT = 10.0


class RadioLoop:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="bleboard-radio", daemon=True)
        self.thread.start()
        self._ready.wait()
        self.ports = []
        # Work handed over from API threads runs in submission order; the loop is woken
        # once per batch, not once per call (a notify loop would otherwise pay a syscall each).
        self._inbox = collections.deque()
        self._inbox_lock = threading.Lock()
        self._inbox_scheduled = False

    def _main(self):
        untraced_thread()  # a traced radio thread can stall irq delivery (see there)
        asyncio.set_event_loop(self.loop)
        # Errors inside callbacks go to our logger (silent unless asked), never to the board's
        # output: a stray traceback would break a multitest's expected output.
        self.loop.set_exception_handler(
            lambda loop, context: log.debug("radio loop: %s", context.get("message"), exc_info=context.get("exception")))
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            try:
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            except RuntimeError:
                pass

    def on_loop_thread(self):
        return threading.current_thread() is self.thread

    def call_soon(self, fn, *args):
        """Run `fn(*args)` on the radio loop, after everything submitted before it."""
        with self._inbox_lock:
            self._inbox.append((fn, args))
            if self._inbox_scheduled:
                return
            self._inbox_scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._drain_inbox)
        except RuntimeError:
            pass  # the loop is closed: the process is exiting

    def _drain_inbox(self):
        while True:
            with self._inbox_lock:
                if not self._inbox:
                    self._inbox_scheduled = False
                    return
                fn, args = self._inbox.popleft()
            try:
                fn(*args)
            except Exception as exc:  # one failed hand-over must not stop the rest
                log.error("radio call %r failed: %r", fn, exc, exc_info=exc)

    def _submit(self, coro):
        future = concurrent.futures.Future()

        def start():
            if not future.set_running_or_notify_cancel():
                coro.close()
                return
            task = self.loop.create_task(coro)
            task.add_done_callback(lambda t: _copy_outcome(t, future))
            future.add_done_callback(lambda f: f.cancelled() and self.loop.call_soon_threadsafe(task.cancel))

        self.call_soon(start)
        return future

    def run(self, coro, timeout=DEFAULT_TIMEOUT):
        """Run `coro` on the radio loop and wait for its result (PortError(ETIMEDOUT) if late)."""
        if self.on_loop_thread():
            coro.close()
            raise RuntimeError("blocking radio call from the radio thread")
        future = self._submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise PortError(ETIMEDOUT, "the radio did not answer in %.0f s" % timeout) from None

    def spawn(self, coro):
        """Start `coro` on the radio loop without waiting; failures are logged, never lost silently."""
        future = self._submit(coro)
        future.add_done_callback(_report)
        return future

    def stop(self):
        """Cancel every task (so none is reported as destroyed while pending), then stop."""
        if not self.loop.is_running():
            return

        async def finish():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        try:
            asyncio.run_coroutine_threadsafe(finish(), self.loop)
        except RuntimeError:
            return
        self.thread.join(2)


def _copy_outcome(task, future):
    if future.done():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _report(future):
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.error("radio task failed: %r", exc, exc_info=exc)


_instance = None
_lock = threading.Lock()


def get():
    """The process's radio loop, started on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = RadioLoop()
            atexit.register(shutdown)
        return _instance


def shutdown():
    """Close every port and stop the radio thread (idempotent)."""
    global _instance
    with _lock:
        inst, _instance = _instance, None
    if inst is None:
        return
    for port in list(inst.ports):
        try:
            port.close()
        except Exception as exc:  # exiting anyway
            log.debug("closing port failed: %r", exc)
    inst.stop()
