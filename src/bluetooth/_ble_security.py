"""Pairing and bonding methods of bluetooth.BLE (spec §3.14, §4.5).

Kept apart from _ble.py: MicroPython builds without pairing have none of these methods, and
tests gate on `hasattr(bluetooth.BLE, "gap_pair")`.
"""

import os

from . import _args
from ._api import _api, _positional_only
from ._port import IRQ_GET_SECRET, IRQ_SET_SECRET, SEC_IRK


class SecurityMethods:
    @_positional_only()
    @_api
    def gap_pair(self, conn_handle):
        port = self._active_port()
        port.security.pair(_args.u16(conn_handle, "conn_handle"))

    @_positional_only()
    @_api
    def gap_passkey(self, conn_handle, action, passkey):
        port = self._active_port()
        port.security.passkey(_args.u16(conn_handle, "conn_handle"), _args.u8(action, "action"),
                              _args.to_int(passkey, "passkey"))

    def _load_identity_key(self):
        """At start-up NimBLE asks for its identity key, and stores a new one if there is none.

        Runs inside active(True) on the calling thread, like the synchronous events of a
        board: the application's handler answers before active() returns.
        """
        irk = self._events.ask(IRQ_GET_SECRET, (SEC_IRK, 0, b"irk"))
        if irk is None:
            irk = os.urandom(16)
            self._events.ask(IRQ_SET_SECRET, (SEC_IRK, b"irk", irk))
        else:
            try:
                irk = _args.to_bytes(irk, "irk")
            except TypeError:
                irk = None
        if irk is not None and len(irk) == 16:
            self._port.security.set_irk(irk)
