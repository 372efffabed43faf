"""irq event codes and delivery: queue from the radio thread, run on the main thread.

Delivery follows spec §5: one handler call at a time, in the order the stack produced
the events; data buffers are read-only memoryviews valid only during the call (released
afterwards, so code that forgets to copy fails here as it would on a board); an exception
escaping the handler is printed and uninstalls the handler, as MicroPython's sync builds do.
"""

import sys

from bleboard.runtime import scheduler as _scheduler

IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_GATTS_WRITE = 3
IRQ_GATTS_READ_REQUEST = 4
IRQ_SCAN_RESULT = 5
IRQ_SCAN_DONE = 6
IRQ_PERIPHERAL_CONNECT = 7
IRQ_PERIPHERAL_DISCONNECT = 8
IRQ_GATTC_SERVICE_RESULT = 9
IRQ_GATTC_SERVICE_DONE = 10
IRQ_GATTC_CHARACTERISTIC_RESULT = 11
IRQ_GATTC_CHARACTERISTIC_DONE = 12
IRQ_GATTC_DESCRIPTOR_RESULT = 13
IRQ_GATTC_DESCRIPTOR_DONE = 14
IRQ_GATTC_READ_RESULT = 15
IRQ_GATTC_READ_DONE = 16
IRQ_GATTC_WRITE_DONE = 17
IRQ_GATTC_NOTIFY = 18
IRQ_GATTC_INDICATE = 19
IRQ_GATTS_INDICATE_DONE = 20
IRQ_MTU_EXCHANGED = 21
IRQ_L2CAP_ACCEPT = 22
IRQ_L2CAP_CONNECT = 23
IRQ_L2CAP_DISCONNECT = 24
IRQ_L2CAP_RECV = 25
IRQ_L2CAP_SEND_READY = 26
IRQ_CONNECTION_UPDATE = 27
IRQ_ENCRYPTION_UPDATE = 28
IRQ_GET_SECRET = 29
IRQ_SET_SECRET = 30
IRQ_PASSKEY_ACTION = 31


def _int_result(value):
    """MicroPython's 'int if possible' conversion of a handler's return value (§4.3)."""
    if value is None or isinstance(value, bool) and not value:
        return 0
    if isinstance(value, int):
        return int(value)
    return 0


class EventQueue:
    """Per-BLE-object event delivery through the process scheduler."""

    def __init__(self, sched=None):
        self.sched = sched or _scheduler.default()
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
        except Exception as exc:  # noqa: BLE001 - printed as MicroPython does
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

    def in_handler(self):
        return self.sched.in_callback()


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
    except Exception:  # noqa: BLE001
        pass


int_result = _int_result
