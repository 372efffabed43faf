"""GATT client: discover a peer's services, read and write them, receive notifications.

Requests that end in a *_DONE event run one at a time per connection (a lock),
so the results arriving for the connection belong to the request in flight
(`conn._op`).  Discovery collects all results before anything is yielded, so
the body of an `async for` may itself issue requests.

Like upstream aioble, a characteristic keeps only its latest unread
notification (and indication): a new one replaces it, so `notified()` never
returns a stale value after a newer one.  Setting `queue_depth` above 1 keeps
that many instead (the oldest dropped beyond).  Values for a characteristic not
discovered yet on the connection are dropped.
"""

from bluetooth import UUID

from .compat import asyncio, const
from .core import ble, wait, wake, handle, check_status
from .device import _connected

_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_DESCRIPTOR_RESULT = const(13)
_IRQ_GATTC_DESCRIPTOR_DONE = const(14)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_GATTC_INDICATE = const(19)

_FLAG_WRITE_NO_RESPONSE = const(0x04)
_FLAG_WRITE = const(0x08)


_CCCD = UUID(0x2902)
# Service, include and characteristic declarations end a characteristic's descriptors.
_DECLARATIONS = (UUID(0x2800), UUID(0x2801), UUID(0x2802), UUID(0x2803))


async def _request(conn, call, args, timeout_ms):
    """Run one procedure that ends in a *_DONE event; return the results it gathered."""
    if conn._lock is None:
        conn._lock = asyncio.Lock()
    async with conn._lock:
        conn._check()
        op = conn._op = [[], None]  # results, status
        try:
            call(conn._conn_handle, *args)
            await wait(conn, lambda: op[1] is not None or conn._check(), timeout_ms)
        finally:
            conn._op = None
    check_status(op[1])
    return op[0]


async def _discover(conn, parent, uuid, timeout_ms):
    b = ble()
    if parent is None:
        rows = await _request(conn, b.gattc_discover_services, (), timeout_ms)
        found = [ClientService(conn, *r) for r in rows]
    elif isinstance(parent, ClientService):
        rows = await _request(conn, b.gattc_discover_characteristics, (parent._start_handle, parent._end_handle), timeout_ms)
        found = [_characteristic(parent, *r) for r in rows]
    else:
        found = []
        if parent._end_handle > parent._value_handle:
            rows = await _request(conn, b.gattc_discover_descriptors, (parent._value_handle, parent._end_handle), timeout_ms)
            for handle, u in rows:  # every attribute in (value, end]: stop at a declaration
                if u in _DECLARATIONS:
                    break
                found.append(ClientDescriptor(parent, handle, u))
    return [x for x in found if uuid is None or x.uuid == uuid]


async def _first(conn, parent, uuid, timeout_ms):
    found = await _discover(conn, parent, uuid, timeout_ms)
    return found[0] if found else None


def _service(conn, uuid, timeout_ms):
    return _first(conn, None, uuid, timeout_ms)


class ClientDiscover:
    """`async for x in ...:` over discovered services, characteristics or descriptors."""

    def __init__(self, conn, parent, uuid, timeout_ms):
        self._args = (conn, parent, uuid, timeout_ms)
        self._found = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._found is None:
            self._found = await _discover(*self._args)
        if self._found:
            return self._found.pop(0)
        raise StopAsyncIteration


class ClientService:
    def __init__(self, connection, start_handle, end_handle, uuid):
        self.connection = connection
        self._start_handle = start_handle
        self._end_handle = end_handle
        self.uuid = uuid

    def __repr__(self):
        return "ClientService(%d, %d, %r)" % (self._start_handle, self._end_handle, self.uuid)

    def characteristic(self, uuid, timeout_ms=2000):
        return _first(self.connection, self, uuid, timeout_ms)

    def characteristics(self, uuid=None, timeout_ms=2000):
        return ClientDiscover(self.connection, self, uuid, timeout_ms)


class BaseClientCharacteristic:
    """read/write shared by characteristics and descriptors."""

    async def read(self, timeout_ms=1000):
        return b"".join(await _request(self._conn, ble().gattc_read, (self._value_handle,), timeout_ms))

    async def write(self, data, response=None, timeout_ms=1000):
        if response is None:
            response = self._response()
        c = self._conn
        if response:
            await _request(c, ble().gattc_write, (self._value_handle, data, 1), timeout_ms)
        else:
            c._check()
            ble().gattc_write(c._conn_handle, self._value_handle, data, 0)

    def _response(self):
        return True


class ClientCharacteristic(BaseClientCharacteristic):
    # Unread notifications (and indications) kept: 1 = only the latest, as upstream.
    # Raise it (per object or class) to queue bursts; the oldest are dropped beyond.
    queue_depth = 1

    def __init__(self, service, end_handle, value_handle, properties, uuid):
        self.service = service
        self._conn = service.connection
        self._end_handle = end_handle
        self._value_handle = value_handle
        self.properties = properties
        self.uuid = uuid
        self._cccd = None
        self._notified = []
        self._indicated = []

    def __repr__(self):
        return "ClientCharacteristic(%d, %r, 0x%02x)" % (self._value_handle, self.uuid, self.properties)

    def _response(self):
        # With response unless the peer only allows write-without-response.
        return self.properties & (_FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE) != _FLAG_WRITE_NO_RESPONSE

    async def _next(self, q, timeout_ms):
        c = self._conn
        await wait(self, lambda: q or c._check(), timeout_ms)
        return q.pop(0)

    def notified(self, timeout_ms=None):
        return self._next(self._notified, timeout_ms)

    def indicated(self, timeout_ms=None):
        return self._next(self._indicated, timeout_ms)

    async def subscribe(self, notify=True, indicate=False):
        if self._cccd is None:
            self._cccd = await self.descriptor(_CCCD)
            if self._cccd is None:
                raise ValueError("%r has no CCCD" % (self.uuid,))
        await self._cccd.write(bytes(((1 if notify else 0) | (2 if indicate else 0), 0)), True)

    def descriptor(self, uuid, timeout_ms=2000):
        return _first(self._conn, self, uuid, timeout_ms)

    def descriptors(self, timeout_ms=2000):
        return ClientDiscover(self._conn, self, None, timeout_ms)


def _characteristic(service, end_handle, value_handle, properties, uuid):
    # One object per value handle and connection, so notifications queue in one place.
    chars = service.connection._chars
    c = chars.get(value_handle)
    if c is None or c.uuid != uuid:
        c = chars[value_handle] = ClientCharacteristic(service, end_handle, value_handle, properties, uuid)
    return c


class ClientDescriptor(BaseClientCharacteristic):
    def __init__(self, characteristic, dsc_handle, uuid):
        self.characteristic = characteristic
        self._conn = characteristic._conn
        self._value_handle = dsc_handle
        self.uuid = uuid

    def __repr__(self):
        return "ClientDescriptor(%d, %r)" % (self._value_handle, self.uuid)


def _irq(event, data):
    conn = _connected.get(data[0])
    if conn is None:
        return
    if event >= _IRQ_GATTC_NOTIFY:
        c = conn._chars.get(data[1])
        if c:
            q = c._notified if event == _IRQ_GATTC_NOTIFY else c._indicated
            q.append(bytes(data[2]))
            if len(q) > c.queue_depth:
                q.pop(0)
            wake(c)
        return
    op = conn._op
    if op is None:
        return
    if event in (
        _IRQ_GATTC_SERVICE_DONE,
        _IRQ_GATTC_CHARACTERISTIC_DONE,
        _IRQ_GATTC_DESCRIPTOR_DONE,
        _IRQ_GATTC_READ_DONE,
        _IRQ_GATTC_WRITE_DONE,
    ):
        op[1] = data[-1]  # the status is the last field of every *_DONE
        wake(conn)
    elif event == _IRQ_GATTC_READ_RESULT:
        op[0].append(bytes(data[2]))
    else:  # a discovery result; copy the UUID, the stack may reuse it
        op[0].append(tuple(data[1:-1]) + (UUID(data[-1]),))


handle(_irq, *range(_IRQ_GATTC_SERVICE_RESULT, _IRQ_GATTC_INDICATE + 1))
