"""irq delivery: queued from the port's threads, run on the scheduler's thread (the codes are in _port.py).

Delivery follows spec §5: one handler call at a time, in the order the stack produced
the events; data buffers are read-only memoryviews valid only during the call (released
afterwards, so code that forgets to copy fails here as it would on a board); an exception
escaping the handler is printed and uninstalls the handler, as MicroPython's sync builds do.
"""

import sys


def int_result(value):
    """MicroPython's 'int if possible' conversion of a handler's return value (§4.3)."""
    if value is None or isinstance(value, bool) and not value:
        return 0
    if isinstance(value, int):
        return int(value)
    return 0


class EventQueue:
    """Per-BLE-object event delivery through a scheduler (injected: the binding does not
    know which runtime runs the handlers).

    `sched` provides call(fn, *args) from any thread, hold() (a context manager that holds
    delivery back during a BLE call) and on_consumer_thread().
    """

    def __init__(self, sched):
        self.sched = sched
        self.handler = None

    def post(self, event, data, before=None, finish=None):
        """Called by the port from any thread.

        `before()` runs on the consumer thread first (e.g. apply a remote write to the value
        store); `finish(result)` receives the handler's return value, or None when no handler
        ran or it raised (the request then gets its default answer).
        """
        self.sched.call(self._deliver, event, data, before, finish)

    def _deliver(self, event, data, before, finish):
        result = None
        try:
            if before is not None:
                before()
            result = self._invoke(event, data)
        finally:
            if finish is not None:
                finish(result)

    def _invoke(self, event, data):
        """Call the handler once; None when there is none or it raised (printed, uninstalled)."""
        handler = self.handler
        if handler is None:
            return None
        views = []
        args = tuple(_view(item, views) for item in data)
        try:
            return handler(event, args)
        except Exception as exc:  # printed as MicroPython does
            if self.handler is handler:
                self.handler = None
            print("Unhandled exception in IRQ callback handler")
            _print_exc(exc)
            return None
        finally:
            for v in views:
                try:
                    v.release()
                except BufferError:
                    pass

    def ask(self, event, data, timeout=10.0):
        """A synchronous event raised inside a BLE call (e.g. the identity key at start-up).

        On the thread that runs handlers it is called right here, as on a board; from any
        other thread it is queued and waited for.
        """
        if self.sched.on_consumer_thread():
            return self._invoke(event, data)
        import threading

        done = threading.Event()
        box = []

        def finish(result):
            box.append(result)
            done.set()

        self.post(event, data, None, finish)
        done.wait(timeout)
        return box[0] if box else None


def _view(item, views):
    if type(item) is bytes:
        v = memoryview(item)  # read-only already: bytes are immutable
    elif isinstance(item, (bytes, bytearray)):
        v = memoryview(bytes(item))
    else:
        return item
    views.append(v)
    return v


def _print_exc(exc):
    import traceback

    traceback.print_exception(exc, file=sys.stdout)
    try:
        sys.stdout.flush()
    except Exception:
        pass

