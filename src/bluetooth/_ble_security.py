"""Pairing and bonding methods of bluetooth.BLE (spec §3.14, §4.5).

Kept apart from _ble.py: MicroPython builds without pairing have none of these methods, and
tests gate on `hasattr(bluetooth.BLE, "gap_pair")`.
"""

import os

from . import _args
from ._api import _api

SEC_IRK = 10


class SecurityMethods:
    @_api
    def gap_pair(self, conn_handle):
        port = self._active_port()
        port.security.pair(port.link(_args.u16(conn_handle, "conn_handle")))

    @_api
    def gap_passkey(self, conn_handle, action, passkey):
        port = self._active_port()
        link = port.link(_args.u16(conn_handle, "conn_handle"))
        port.security.passkey(link, _args.u8(action, "action"), _args.to_int(passkey, "passkey"))

    def _load_identity_key(self):
        """At start-up NimBLE asks for its identity key, and stores a new one if there is none.

        Runs inside active(True) on the calling thread, like the synchronous events of a
        board: the application's handler answers before active() returns.
        """
        irk = self._events.ask(29, (SEC_IRK, 0, b"irk"))
        if irk is None:
            irk = os.urandom(16)
            self._events.ask(30, (SEC_IRK, b"irk", irk))
        else:
            try:
                irk = _args.to_bytes(irk, "irk")
            except TypeError:
                irk = None
        if irk is not None and len(irk) == 16:
            self._port.security.set_irk(irk)


def _positional_only(cls, *names):
    for name in names:
        method = getattr(cls, name)

        def wrapper(self, *args, _method=method, **kwargs):
            if kwargs:
                raise TypeError("function doesn't take keyword arguments")
            return _method(self, *args)

        wrapper.__name__ = name
        wrapper.__doc__ = method.__doc__
        setattr(cls, name, wrapper)


_positional_only(SecurityMethods, "gap_pair", "gap_passkey")
