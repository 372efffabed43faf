"""MicroPython's `machine` module for the virtual board (the parts a BLE program uses).

`idle()` sleeps about a millisecond without spinning (irq handlers and
scheduled functions run meanwhile).  `reset()`, `soft_reset()` and the end of
`deepsleep()` restart the program from the top (see bleboard.runtime.session);
`reset_cause()` then tells why.  `Pin`, `Signal` and `Timer` are enough for
examples that blink an LED: pin levels are kept in memory (logged with -v) and
timer callbacks run on the main thread like soft timers on a board.
"""

import logging
import os
import sys
import threading
import time

from bleboard.runtime import scheduler as _scheduler
from bleboard.runtime import session as _session

PWRON_RESET = _session.PWRON_RESET
HARD_RESET = _session.HARD_RESET
WDT_RESET = _session.WDT_RESET
DEEPSLEEP_RESET = _session.DEEPSLEEP_RESET
SOFT_RESET = _session.SOFT_RESET

_log = logging.getLogger("bleboard.machine")
_freq = 160_000_000


def _int_arg(value, name):
    if isinstance(value, int):
        return int(value)
    raise TypeError("can't convert %s to int (%s)" % (type(value).__name__, name))


def idle():
    """Give the CPU away for about a millisecond; pending callbacks run first."""
    sched = _scheduler._default
    if sched is not None and sched.on_consumer_thread():
        sched.drain()
    time.sleep(0.001)


def reset():
    """Hard reset: the program starts again from the top."""
    _session.restart(HARD_RESET)


def soft_reset():
    """Soft reset: the program starts again from the top."""
    _session.restart(SOFT_RESET)


def reset_cause():
    return _session.reset_cause()


def unique_id():
    """6 bytes, stable for this board: its BLE address if the radio is on, else random.

    The first answer is kept, also across machine.reset(), so the id does not change
    when the radio comes up later or the board resets.
    """
    return _session.unique_id(lambda: _ble_address() or os.urandom(6))


def _ble_address():
    bluetooth = sys.modules.get("bluetooth")
    if bluetooth is None or not hasattr(bluetooth, "BLE"):
        return None
    try:
        ble = bluetooth.BLE()
        if ble.active():
            return bytes(ble.config("mac")[1])
    except Exception:  # no radio: fall back to a per-process id
        _log.debug("unique_id: no BLE address", exc_info=True)
    return None


def freq(hz=None):
    """CPU frequency in Hz (recorded; the virtual board's speed is the host's)."""
    global _freq
    if hz is None:
        return _freq
    hz = _int_arg(hz, "freq")
    if hz <= 0:
        raise ValueError("freq must be positive")
    _freq = hz
    return None


def lightsleep(time_ms=None):
    """Sleep `time_ms` (forever if None), then carry on; the radio stays up."""
    if time_ms is None:
        threading.Event().wait()
    else:
        time.sleep(max(_int_arg(time_ms, "time_ms"), 0) / 1000)


sleep = lightsleep


def deepsleep(time_ms=None):
    """Radio off, sleep `time_ms` (forever if None), then restart with DEEPSLEEP_RESET."""
    _session.shutdown_radio()
    lightsleep(time_ms)
    _session.restart(DEEPSLEEP_RESET)


class _IrqState:
    __slots__ = ("_hold",)

    def __init__(self, hold):
        self._hold = hold


def disable_irq():
    """Defer irq handlers and scheduled functions until `enable_irq(state)`."""
    hold = _scheduler.default().hold()
    hold.__enter__()
    return _IrqState(hold)


def enable_irq(state=None):
    """Re-enable what `disable_irq()` deferred; pending callbacks run now."""
    if isinstance(state, _IrqState) and state._hold is not None:
        hold, state._hold = state._hold, None
        hold.__exit__(None, None, None)


# ---- GPIO (in memory) ------------------------------------------------------


class Pin:
    """A GPIO whose level lives in memory; enough for blinking an LED."""

    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    ALT_OPEN_DRAIN = 4
    ANALOG = 5
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    _levels = {}  # pin id -> level, shared by every Pin object of that id
    _irqs = {}  # pin id -> (handler, trigger)

    def __init__(self, id, mode=-1, pull=-1, *, value=None, **kwargs):
        if not isinstance(id, (int, str)):
            raise TypeError("Pin id must be int or str")
        self._id = id
        self._mode = self.IN
        self._pull = None
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None, **kwargs):
        if mode != -1:
            if mode not in (self.IN, self.OUT, self.OPEN_DRAIN, self.ALT, self.ALT_OPEN_DRAIN, self.ANALOG):
                raise ValueError("invalid pin mode: %r" % (mode,))
            self._mode = mode
        if pull != -1:
            if pull not in (None, self.PULL_UP, self.PULL_DOWN):
                raise ValueError("invalid pin pull: %r" % (pull,))
            self._pull = pull
        if value is not None:
            self._set(value)
        elif self._id not in Pin._levels:
            Pin._levels[self._id] = 1 if self._pull == self.PULL_UP else 0

    def value(self, x=None):
        if x is None:
            return Pin._levels.get(self._id, 0)
        self._set(x)
        return None

    __call__ = value

    def _set(self, x):
        new = 1 if x else 0
        old = Pin._levels.get(self._id, 0)
        Pin._levels[self._id] = new
        if new != old:
            _log.debug("pin %r -> %d", self._id, new)
            irq = Pin._irqs.get(self._id)
            if irq is not None:
                handler, trigger = irq
                if trigger & (self.IRQ_RISING if new else self.IRQ_FALLING):
                    _scheduler.default().call(handler, self)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    high = on
    low = off

    def toggle(self):
        self._set(not self.value())

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, **kwargs):
        """Call `handler(pin)` on the main thread when the level changes as `trigger` says."""
        if handler is None:
            Pin._irqs.pop(self._id, None)
        else:
            Pin._irqs[self._id] = (handler, trigger)

    def __repr__(self):
        return "Pin(%r)" % (self._id,)


class Signal:
    """A Pin, optionally inverted (active-low LEDs)."""

    def __init__(self, pin, *args, invert=False, **kwargs):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kwargs)
        self._invert = bool(invert)

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._invert
        self._pin.value(bool(x) ^ self._invert)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


# ---- soft timers -------------------------------------------------------------


class Timer:
    """A soft timer: `callback(timer)` runs on the main thread, like any irq."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kwargs):
        self._id = id
        self._stop = None
        if kwargs:
            self.init(**kwargs)

    def init(self, *, mode=PERIODIC, period=-1, freq=-1, callback=None, **kwargs):
        if mode not in (self.ONE_SHOT, self.PERIODIC):
            raise ValueError("invalid timer mode: %r" % (mode,))
        if freq is not None and freq != -1:
            if freq <= 0:
                raise ValueError("freq must be positive")
            period_s = 1 / freq
        else:
            period = _int_arg(period, "period")
            if period < 0:
                raise ValueError("period must be given and not negative")
            period_s = period / 1000
        if mode == self.PERIODIC:
            period_s = max(period_s, 0.001)  # a zero period must not spin
        self.deinit()
        stop = self._stop = threading.Event()
        sched = _scheduler.default()

        def run():
            deadline = time.monotonic()
            while True:
                deadline += period_s
                if stop.wait(max(deadline - time.monotonic(), 0)):
                    return
                if callback is not None:
                    sched.call(self._fire, stop, callback)
                if mode == self.ONE_SHOT:
                    return

        threading.Thread(target=run, name="machine.Timer", daemon=True).start()

    def _fire(self, stop, callback):
        if not stop.is_set():  # deinit() since it was queued: drop it
            callback(self)

    def deinit(self):
        if self._stop is not None:
            self._stop.set()
            self._stop = None

    def __repr__(self):
        return "Timer(%r)" % (self._id,)
