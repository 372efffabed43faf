"""aioble: asyncio BLE over the `bluetooth` module (MicroPython boards and CPython).

Each role lives in its own module and is optional: a board may freeze only
some of them (see frozen/aioble-*), so the ones that are absent are skipped.
"""

from .core import (
    ADDR_PUBLIC,
    ADDR_RANDOM,
    GattError,
    DeviceDisconnectedError,
    L2CAPDisconnectedError,
    L2CAPConnectionError,
    config,
    stop,
)
from .device import Device, DeviceConnection, DeviceTimeout

try:
    from .peripheral import advertise
except ImportError:
    pass

try:
    from .central import scan, ScanResult
except ImportError:
    pass

try:
    from .server import Service, Characteristic, BufferedCharacteristic, Descriptor, register_services
except ImportError:
    pass

try:
    from .client import ClientService, ClientCharacteristic, ClientDescriptor, ClientDiscover
except ImportError:
    pass

try:
    from .l2cap import L2CAPChannel
except ImportError:
    pass

try:
    from . import security
except ImportError:
    pass
