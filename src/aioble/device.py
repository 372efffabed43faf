"""Remote devices and connections: the parts every role shares.

A `DeviceConnection` carries the per-connection state of every role module
(GATT client request in flight, pending indication, L2CAP hand-over), so a
disconnect has one place to end them all: `_lost()` drops the handle and wakes
every waiting task, and each wait's `done()` sees `_conn_handle is None`.
"""

from .compat import asyncio, const
from .core import ble, wait, wake, handle, _stoppers, DeviceDisconnectedError

_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)

_connected = {}  # conn_handle -> DeviceConnection, for the irq handlers


def _hex_addr(s):
    # (No stepped slices: MicroPython's str only slices with step 1.)
    if len(s) == 17 and all(s[i] == ":" for i in range(2, 17, 3)):
        try:
            return bytes(int(s[i : i + 2], 16) for i in range(0, 17, 3))
        except ValueError:
            pass
    raise ValueError("invalid addr %r: expected 'xx:xx:xx:xx:xx:xx'" % s)


class Device:
    """A remote device by address; use it to connect."""

    def __init__(self, addr_type, addr):
        if addr_type not in (0, 1):
            raise ValueError("addr_type must be 0 or 1, not %r" % (addr_type,))
        if isinstance(addr, str):
            addr = _hex_addr(addr)
        elif not isinstance(addr, (bytes, bytearray, memoryview)):
            raise TypeError("addr must be bytes or str")
        addr = bytes(addr)
        if len(addr) != 6:
            raise ValueError("addr must be 6 bytes, not %d" % len(addr))
        self.addr_type = addr_type
        self.addr = addr

    def __eq__(self, other):
        return isinstance(other, Device) and self.addr_type == other.addr_type and self.addr == other.addr

    def __hash__(self):
        return hash((self.addr_type, self.addr))

    def __repr__(self):
        return "Device(ADDR_%s, %s)" % ("RANDOM" if self.addr_type else "PUBLIC", self.addr_hex())

    def addr_hex(self):
        return ":".join("%02x" % b for b in self.addr)

    def connect(self, timeout_ms=10000, scan_duration_ms=None, min_conn_interval_us=None, max_conn_interval_us=None):
        from .central import _connect

        return _connect(self, timeout_ms, scan_duration_ms, min_conn_interval_us, max_conn_interval_us)


class DeviceTimeout:
    """`async with conn.timeout(ms):` cancels the body at the timeout or at a disconnect.

    A watcher task does the cancelling (irq handlers only set flags), and
    `__aexit__` turns that cancellation into TimeoutError or DeviceDisconnectedError.
    """

    def __init__(self, connection, timeout_ms):
        self._conn = connection
        self._ms = timeout_ms
        self._why = None

    async def _watch(self):
        c = self._conn
        try:
            await wait(c, lambda: c._conn_handle is None, self._ms)
            self._why = DeviceDisconnectedError
        except asyncio.TimeoutError:
            self._why = asyncio.TimeoutError
        self._task.cancel()

    async def __aenter__(self):
        self._task = asyncio.current_task()
        self._watcher = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self._watcher.cancel()
        if self._why and exc_type is asyncio.CancelledError:
            if hasattr(self._task, "uncancel"):
                self._task.uncancel()  # CPython 3.11+: this cancel is ours, not the caller's
            raise self._why()


class DeviceConnection:
    """A GAP connection, from Device.connect() or advertise(). Do not construct."""

    def __init__(self, device):
        self.device = device
        self.encrypted = False
        self.authenticated = False
        self.bonded = False
        self.key_size = False
        self.mtu = None
        self._conn_handle = None
        self._enc = 0  # encryption updates seen (pair() waits for the next one)
        self._lock = None  # GATT client: one request at a time (client.py)
        self._op = None  # GATT client: the request in flight
        self._chars = {}  # GATT client: value handle -> ClientCharacteristic
        self._ind = None  # GATT server: status of our indication in flight
        self._l2cap = None  # L2CAP: new channel or failure status, for the waiter

    def _start(self, conn_handle):
        self._conn_handle = conn_handle
        _connected[conn_handle] = self

    def _check(self):
        # Returns None, so `lambda: self._check() or <result ready>` reads naturally.
        if self._conn_handle is None:
            raise DeviceDisconnectedError

    def __repr__(self):
        return "DeviceConnection(%r, %s)" % (self.device, self._conn_handle)

    def is_connected(self):
        return self._conn_handle is not None

    def timeout(self, timeout_ms):
        return DeviceTimeout(self, timeout_ms)

    async def disconnected(self, timeout_ms=None, disconnect=False):
        if disconnect and self._conn_handle is not None:
            ble().gap_disconnect(self._conn_handle)
        await wait(self, lambda: self._conn_handle is None, timeout_ms)

    async def disconnect(self, timeout_ms=2000):
        await self.disconnected(timeout_ms, True)

    async def exchange_mtu(self, mtu=None, timeout_ms=1000):
        self._check()
        b = ble()
        if mtu:
            b.config(mtu=mtu)
        self.mtu = None
        b.gattc_exchange_mtu(self._conn_handle)
        await wait(self, lambda: self._check() or self.mtu, timeout_ms)
        return self.mtu

    async def mtu_exchanged(self, timeout_ms=None):
        """Wait until an MTU exchange (started by either side) has completed."""
        await wait(self, lambda: self._check() or self.mtu, timeout_ms)
        return self.mtu

    def service(self, uuid, timeout_ms=2000):
        from .client import _service

        return _service(self, uuid, timeout_ms)

    def services(self, uuid=None, timeout_ms=2000):
        from .client import ClientDiscover

        return ClientDiscover(self, None, uuid, timeout_ms)

    def pair(self, *args, **kwargs):
        from .security import _pair

        return _pair(self, *args, **kwargs)

    def l2cap_accept(self, psm, mtu, timeout_ms=None):
        from .l2cap import _accept

        return _accept(self, psm, mtu, timeout_ms)

    def l2cap_connect(self, psm, mtu, timeout_ms=1000):
        from .l2cap import _connect

        return _connect(self, psm, mtu, timeout_ms)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if self._conn_handle is not None:
            await self.disconnect()


def _lost(conn_handle):
    """The link is gone (irq, or stop()): end every wait that depends on it."""
    c = _connected.pop(conn_handle, None)
    if c:
        c._conn_handle = None
        wake()


def _irq(event, data):
    c = _connected.get(data[0])
    if c:
        if event == _IRQ_MTU_EXCHANGED:
            c.mtu = data[1]
        else:
            c.encrypted, c.authenticated, c.bonded = bool(data[1]), bool(data[2]), bool(data[3])
            c.key_size = data[4] if data[1] else False
            c._enc += 1
        wake(c)


def _stop():
    for h in list(_connected):
        _lost(h)


handle(_irq, _IRQ_MTU_EXCHANGED, _IRQ_ENCRYPTION_UPDATE)
_stoppers.append(_stop)
