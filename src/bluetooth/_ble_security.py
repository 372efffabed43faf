"""Pairing and bonding methods of bluetooth.BLE (spec §3.14, §4.5).

Kept apart from _ble.py: MicroPython builds without pairing have none of these methods, and
tests gate on `hasattr(bluetooth.BLE, "gap_pair")`.
"""


class SecurityMethods:
    pass
