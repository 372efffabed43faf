"""MicroPython's `bluetooth` module for CPython, over Bumble (see spec/bluetooth.md).

Note: the unmaintained PyBluez also installed a module called `bluetooth`; the two
cannot be installed together.
"""

from ._ble import BLE
from ._port import FLAG_INDICATE, FLAG_NOTIFY, FLAG_READ, FLAG_WRITE, FLAG_WRITE_NO_RESPONSE
from ._uuid import UUID


def _shutdown():
    """Stop every radio of this process cleanly (called at exit by `bleboard run`)."""
    from ._ble import _shutdown_default_port

    _shutdown_default_port()


def _soft_reset():
    """What a board's soft reset does to `bluetooth` (used by the virtual pty board)."""
    BLE._soft_reset()


__all__ = ["BLE", "UUID", "FLAG_READ", "FLAG_WRITE", "FLAG_NOTIFY", "FLAG_INDICATE", "FLAG_WRITE_NO_RESPONSE"]
