"""The radio thread: one asyncio loop per process that owns every Bumble object.

API calls arrive from the main thread (or any other) and are handed over with
`run()` (wait for the answer, with a timeout) or `spawn()` (fire and forget, errors
reported). The thread is a daemon so it never keeps a program alive, and `shutdown()`
(registered with atexit) closes every port cleanly so a shared radio sees the board
leave instead of a broken pipe.
"""

import asyncio
import atexit
import concurrent.futures
import logging
import threading

from bluetooth._errors import ETIMEDOUT, PortError

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

    def _main(self):
        asyncio.set_event_loop(self.loop)
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

    def run(self, coro, timeout=DEFAULT_TIMEOUT):
        """Run `coro` on the radio loop and wait for its result (PortError(ETIMEDOUT) if late)."""
        if self.on_loop_thread():
            coro.close()
            raise RuntimeError("blocking radio call from the radio thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise PortError(ETIMEDOUT, "the radio did not answer in %.0f s" % timeout) from None

    def spawn(self, coro):
        """Start `coro` on the radio loop without waiting; failures are logged, never lost silently."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        future.add_done_callback(_report)
        return future

    def call_soon(self, fn, *args):
        self.loop.call_soon_threadsafe(fn, *args)

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
        except Exception as exc:  # noqa: BLE001 - exiting anyway
            log.debug("closing port failed: %r", exc)
    inst.stop()
