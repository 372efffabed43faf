"""Shared by every group of BLE methods: atomic calls and MicroPython's argument rules."""

import functools

from ._errors import PortError, oserror


def _api(method):
    """Run a BLE method atomically with respect to irq delivery; PortError -> OSError."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._events.sched.hold():
            try:
                return method(self, *args, **kwargs)
            except PortError as e:
                raise oserror(e.errno, e.detail) from None

    return wrapper


def _positional(name, args, lo, hi):
    if not lo <= len(args) <= hi:
        raise TypeError("function %s takes %d to %d positional arguments but %d were given" % (name, lo, hi, len(args)))
