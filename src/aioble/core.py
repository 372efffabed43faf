"""aioble core: the BLE object we drive, irq dispatch, waiting, errors, stop().

Role modules register the irq events they own with `handle()`.  Every coroutine
that waits for the radio goes through `wait(key, done, timeout_ms)`: an irq
handler changes some state and calls `wake(key)`, and the task re-checks its
`done()` condition.  A result, a failure status, a disconnect and `stop()` are
all just states `done()` looks at (it returns true or raises), and a timeout is
`wait_for_ms` around the loop, so every way an operation can end is visible in
one small function next to the operation.
"""

from .compat import const, ThreadSafeFlag, wait_for_ms, print_exception

ADDR_PUBLIC = const(0)
ADDR_RANDOM = const(1)


class GattError(Exception):
    """A remote GATT operation completed with a non-zero status (kept in `_status`)."""

    def __init__(self, status):
        super().__init__("GATT operation failed, status %d (0x%x)" % (status, status))
        self._status = status


class DeviceDisconnectedError(Exception):
    pass


def check_status(status):
    """The one place a GATT procedure's status becomes an exception."""
    if status == 7:  # BLE_HS_ENOTCONN: the procedure ended because the link dropped
        raise DeviceDisconnectedError
    if status:
        raise GattError(status)


class L2CAPDisconnectedError(Exception):
    pass


class L2CAPConnectionError(Exception):
    """args[0] is the status the stack reported for the failed connect."""


_ble = None  # the bluetooth.BLE object in use; replace it with use()
_on = False  # True while aioble has it active
_events = {}  # irq event code -> handler of the module that owns it
_stoppers = []  # each module's "forget everything" function, run by stop()
_waiting = []  # (key, flag) of every task blocked in wait()


def use(ble=None):
    """Drive `ble` (default: the last one, else bluetooth.BLE()) and activate it."""
    global _ble, _on
    if ble is None:
        ble = _ble
        if ble is None:
            import bluetooth

            ble = bluetooth.BLE()
    ble.irq(_irq)
    if not ble.active():
        ble.active(True)
    _ble = ble
    _on = True
    return ble


def ble():
    """The BLE object, activated on first use (and again after stop())."""
    return _ble if _on else use()


def config(*args, **kwargs):
    return ble().config(*args, **kwargs)


def stop():
    """Switch the radio off; every scan, advertisement, connection and wait ends."""
    global _on
    _on = False
    if _ble:
        _ble.active(False)
    for f in _stoppers:
        f()
    wake()


def handle(fn, *events):
    for e in events:
        _events[e] = fn


def _irq(event, data):
    fn = _events.get(event)
    if fn:
        try:
            return fn(event, data)
        except Exception as e:
            # Never let one bad event uninstall the handler (MicroPython would).
            print_exception(e)


def wake(key=None):
    """Wake the tasks waiting on `key` (None: every waiting task)."""
    for k, f in tuple(_waiting):
        if key is None or k is key:
            f.set()


async def _until(done, flag):
    while not done():
        if not _on:
            raise OSError(19, "ENODEV")  # aioble.stop() switched the radio off
        await flag.wait()


async def wait(key, done, timeout_ms=None):
    """Return once done() is true; done() raises to end the wait with an error."""
    if done():
        return
    w = (key, ThreadSafeFlag())
    _waiting.append(w)
    try:
        if timeout_ms is None:
            await _until(done, w[1])
        else:
            await wait_for_ms(_until(done, w[1]), timeout_ms)
    finally:
        _waiting.remove(w)
