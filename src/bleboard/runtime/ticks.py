"""MicroPython's `time` extensions: millisecond sleeps and wrapping tick counters.

Boards count ticks in a small integer that wraps (period 2**30 on the ports
that matter), so code written for them must use `ticks_diff`/`ticks_add`.
We wrap at the same period so a program that gets this wrong fails here too.

Sleeps go through `time.sleep`, which the main-thread scheduler's signal
interrupts to run irq handlers and then resumes for the remaining time.
"""

import time as _time

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALFPERIOD = TICKS_PERIOD >> 1

_monotonic_ns = _time.monotonic_ns
_perf_counter_ns = _time.perf_counter_ns
_sleep = _time.sleep


def _int_arg(value, name):
    # mp_obj_get_int: ints and bools only, floats are a TypeError.
    if isinstance(value, int):
        return int(value)
    raise TypeError("can't convert %s to int (%s)" % (type(value).__name__, name))


def sleep_ms(ms):
    """Sleep for `ms` milliseconds (negative: no sleep, as on MicroPython)."""
    ms = _int_arg(ms, "ms")
    if ms > 0:
        _sleep(ms / 1000)


def sleep_us(us):
    """Sleep for `us` microseconds (negative: no sleep)."""
    us = _int_arg(us, "us")
    if us > 0:
        _sleep(us / 1_000_000)


def ticks_ms():
    """Milliseconds from an arbitrary point, wrapping at TICKS_PERIOD."""
    return (_monotonic_ns() // 1_000_000) & TICKS_MAX


def ticks_us():
    """Microseconds from an arbitrary point, wrapping at TICKS_PERIOD."""
    return (_monotonic_ns() // 1_000) & TICKS_MAX


def ticks_cpu():
    """The finest counter we have (nanoseconds), wrapping at TICKS_PERIOD."""
    return _perf_counter_ns() & TICKS_MAX


def ticks_diff(ticks1, ticks2):
    """Signed `ticks1 - ticks2`, correct across one wrap-around."""
    ticks1 = _int_arg(ticks1, "ticks1")
    ticks2 = _int_arg(ticks2, "ticks2")
    return ((ticks1 - ticks2 + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD


def ticks_add(ticks, delta):
    """`ticks + delta` wrapped; |delta| must stay under half a period."""
    ticks = _int_arg(ticks, "ticks")
    delta = _int_arg(delta, "delta")
    if not -TICKS_HALFPERIOD < delta < TICKS_HALFPERIOD:
        raise OverflowError("ticks interval overflow")
    return (ticks + delta) & TICKS_MAX


NAMES = ("sleep_ms", "sleep_us", "ticks_ms", "ticks_us", "ticks_cpu", "ticks_diff", "ticks_add")
