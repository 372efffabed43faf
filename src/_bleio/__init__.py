"""_bleio: CircuitPython's low-level BLE API, in Python, over MicroPython's `bluetooth`.

The same files run on CPython (over bleboard's Bumble port) and frozen on MicroPython
boards. Use `adafruit_ble` on top of it, as on CircuitPython.

On CPython, `import _bleio` finds this package even when adafruit-blinka-bleio (pulled in by
adafruit-circuitpython-ble) installed its own `_bleio`: bleboard installs `bleboard-bleio.pth`,
which runs `bleboard._bleio_hook` at start-up. Set BLEBOARD_NO_BLEIO_HOOK=1 to opt out.
"""

from ._errors import BluetoothError, ConnectionError, RoleError, SecurityError
from ._uuid import UUID
from ._address import Address
from ._attribute import Attribute
from ._scan import ScanEntry, ScanResults
from ._adapter import Adapter
from ._connection import Connection
from ._service import Service
from ._characteristic import Characteristic
from ._descriptor import Descriptor
from ._buffers import CharacteristicBuffer, PacketBuffer
from . import _adapter

__bleboard__ = True

adapter = Adapter._singleton()
_adapter.current[0] = adapter


def set_adapter(new_adapter):
    """Make `new_adapter` (an HCI co-processor Adapter, or None) the one `_bleio.adapter` names."""
    global adapter
    if new_adapter is not None and not isinstance(new_adapter, Adapter):
        raise TypeError("adapter must be an Adapter or None")
    import bluetooth

    if not hasattr(bluetooth.BLE, "new"):
        raise NotImplementedError("the adapter is a singleton on this board and cannot be set")
    adapter = new_adapter
    _adapter.current[0] = new_adapter
