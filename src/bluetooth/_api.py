"""Shared by every group of BLE methods: atomic calls and MicroPython's argument rules."""

import functools

from ._errors import oserror
from ._port import PortError


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


def _positional_only(count=None):
    """MicroPython's methods that take no keywords (spec §2.1): a keyword is a TypeError,
    and with `count` exactly that many positional arguments are taken."""

    def decorate(method):
        name = method.__name__

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if kwargs:
                raise TypeError("function doesn't take keyword arguments")
            if count is not None:
                _positional(name, args, count, count)
            return method(self, *args)

        return wrapper

    return decorate
