"""GATT server: local services, characteristics and descriptors, and waiting on clients."""

from .compat import const
from .core import ble, wait, wake, handle, _stoppers, check_status
from .device import _connected, DeviceDisconnectedError

_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_GATTS_INDICATE_DONE = const(20)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)

_CAPTURE_DEPTH = const(10)

_registered = {}  # value handle -> Characteristic / Descriptor


class Service:
    def __init__(self, uuid):
        self.uuid = uuid
        self.characteristics = []

    def _definition(self):
        return (self.uuid, tuple(c._definition() for c in self.characteristics))


class BaseCharacteristic:
    """What characteristics and descriptors share: local value, written(), on_read()."""

    def _init(self, uuid, flags, initial, capture):
        self.uuid = uuid
        self.flags = flags
        self._initial = initial
        self._capture = capture
        self._buffer = None  # (max_len, append) for BufferedCharacteristic
        self._value_handle = None
        self._written = []  # writers (or (writer, data) when capturing) not yet returned

    def _register(self, value_handle):
        self._value_handle = value_handle
        _registered[value_handle] = self
        b = ble()
        if self._buffer:
            b.gatts_set_buffer(value_handle, *self._buffer)
        if self._initial is not None:
            b.gatts_write(value_handle, self._initial)

    def read(self):
        return ble().gatts_read(self._handle())

    def write(self, data, send_update=False):
        if self._value_handle is None:
            self._initial = data  # before register_services(): becomes the initial value
        else:
            ble().gatts_write(self._value_handle, data, send_update)

    def _handle(self):
        if self._value_handle is None:
            raise ValueError("%r is not registered (call aioble.register_services)" % (self.uuid,))
        return self._value_handle

    async def written(self, timeout_ms=None):
        """Wait for a client write: returns the writer, or (writer, data) with capture=True.

        Raises DeviceDisconnectedError if the clients connected when the wait
        began have all gone (nobody is left to write).
        """
        q = self._written
        had = bool(_connected)

        def done():
            if q:
                return True
            if had and not _connected:
                raise DeviceDisconnectedError

        await wait(self, done, timeout_ms)
        return q.pop(0)

    def on_read(self, connection):
        return 0


class Characteristic(BaseCharacteristic):
    def __init__(
        self,
        service,
        uuid,
        read=False,
        write=False,
        write_no_response=False,
        notify=False,
        indicate=False,
        initial=None,
        capture=False,
    ):
        flags = (
            (_FLAG_READ if read else 0)
            | (_FLAG_WRITE if write else 0)
            | (_FLAG_WRITE_NO_RESPONSE if write_no_response else 0)
            | (_FLAG_NOTIFY if notify else 0)
            | (_FLAG_INDICATE if indicate else 0)
        )
        self._init(uuid, flags, initial, capture)
        self.service = service
        self.descriptors = []
        service.characteristics.append(self)

    def _definition(self):
        return (self.uuid, self.flags, tuple((d.uuid, d.flags) for d in self.descriptors))

    def notify(self, connection, data=None):
        connection._check()
        ble().gatts_notify(connection._conn_handle, self._handle(), data)

    async def indicate(self, connection, data=None, timeout_ms=1000):
        """Indicate and wait for the client's confirmation (one at a time per connection)."""
        connection._check()
        if connection._ind is not None:
            raise OSError(114, "EALREADY")  # an indication to this client is in flight
        connection._ind = -1  # pending
        try:
            ble().gatts_indicate(connection._conn_handle, self._handle(), data)
            await wait(connection, lambda: connection._ind >= 0 or connection._check(), timeout_ms)
            status = connection._ind
        finally:
            connection._ind = None
        check_status(status)


class BufferedCharacteristic(Characteristic):
    def __init__(self, service, uuid, max_len=20, append=False, **kwargs):
        if not isinstance(max_len, int) or max_len < 1:
            raise ValueError("max_len must be an int >= 1")
        super().__init__(service, uuid, **kwargs)
        self._buffer = (max_len, bool(append))


class Descriptor(BaseCharacteristic):
    def __init__(self, characteristic, uuid, read=False, write=False, initial=None):
        self._init(uuid, (_FLAG_READ if read else 0) | (_FLAG_WRITE if write else 0), initial, False)
        self.characteristic = characteristic
        characteristic.descriptors.append(self)


def register_services(*services):
    """Register the services with the stack (replaces any earlier registration)."""
    b = ble()
    _registered.clear()
    handles = b.gatts_register_services(tuple(s._definition() for s in services))
    for s, hs in zip(services, handles):
        i = 0
        for c in s.characteristics:
            for a in [c] + c.descriptors:  # value handle, then its descriptors
                a._register(hs[i])
                i += 1


def _irq(event, data):
    conn_handle, attr_handle = data[0], data[1]
    conn = _connected.get(conn_handle)
    if event == _IRQ_GATTS_INDICATE_DONE:
        if conn and conn._ind is not None:
            conn._ind = data[2]
            wake(conn)
        return
    a = _registered.get(attr_handle)
    if a is None:
        return
    if event == _IRQ_GATTS_READ_REQUEST:
        return a.on_read(conn)
    q = a._written
    if a._capture:
        q.append((conn, ble().gatts_read(attr_handle)))  # read now: the next write replaces it
        if len(q) > _CAPTURE_DEPTH:
            q.pop(0)
    else:
        q.clear()  # only the latest writer matters
        q.append(conn)
    wake(a)


def _stop():
    _registered.clear()


handle(_irq, _IRQ_GATTS_WRITE, _IRQ_GATTS_READ_REQUEST, _IRQ_GATTS_INDICATE_DONE)
_stoppers.append(_stop)
