"""L2CAP connection-oriented channel methods of bluetooth.BLE (spec §3.13).

Kept apart from _ble.py: MicroPython builds without L2CAP have none of these methods, and
tests gate on `hasattr(bluetooth.BLE, "l2cap_connect")`.
"""


class L2capMethods:
    pass
