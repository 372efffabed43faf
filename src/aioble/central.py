"""Observer and central roles: scanning (with advertising data parsing) and connecting."""

from bluetooth import UUID

from .compat import asyncio, const
from .core import ble, wait, wake, handle, _stoppers
from .device import Device, DeviceConnection, _connected, _lost

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)

_ADV_SCAN_IND = const(2)
_ADV_SCAN_RSP = const(4)

_ADV_TYPE_SHORT_NAME = const(0x08)
_ADV_TYPE_COMPLETE_NAME = const(0x09)
_ADV_TYPE_MANUFACTURER = const(0xFF)

_scanner = None  # the scan that owns the radio's scanner
_connecting = None  # the DeviceConnection of the pending gap_connect
_opened = None  # the last one that connected (it may be over before its task runs)


class ScanResult:
    """One device seen by a scan, with its latest advertising and scan-response data."""

    def __init__(self, device):
        self.device = device
        self.adv_data = None
        self.resp_data = None
        self.rssi = None
        self.connectable = False

    def _update(self, adv_type, rssi, data):
        # Returns True when the payload is new (the scan then yields this result again).
        self.rssi = rssi
        if adv_type == _ADV_SCAN_RSP:
            new = data != self.resp_data
            self.resp_data = data
        else:
            self.connectable = adv_type < _ADV_SCAN_IND  # ADV_IND or ADV_DIRECT_IND
            new = data != self.adv_data
            self.adv_data = data
        return new

    def __repr__(self):
        return "ScanResult(%r, rssi=%s, connectable=%s)" % (self.device, self.rssi, self.connectable)

    def _fields(self, *types):
        # Yields (ad_type, value) for each AD structure of those types, advertising data first.
        for payload in (self.adv_data, self.resp_data):
            i = 0
            while payload and i + 1 < len(payload):
                n = payload[i]
                if n == 0:
                    break  # the rest is padding
                if payload[i + 1] in types:
                    yield payload[i + 1], payload[i + 2 : i + 1 + n]
                i += n + 1

    def name(self):
        for _, value in self._fields(_ADV_TYPE_COMPLETE_NAME, _ADV_TYPE_SHORT_NAME):
            try:
                return str(value, "utf-8")
            except ValueError:  # not UTF-8
                return None
        return None

    def services(self):
        # AD types 2/3: 16-bit, 4/5: 32-bit, 6/7: 128-bit UUID lists (incomplete/complete).
        for ad_type, value in self._fields(2, 3, 4, 5, 6, 7):
            n = (2, 4, 16)[(ad_type - 2) // 2]
            for i in range(0, len(value) - n + 1, n):
                yield UUID(value[i : i + n])

    def manufacturer(self, filter=None):
        for _, value in self._fields(_ADV_TYPE_MANUFACTURER):
            if len(value) >= 2:
                company = value[0] | value[1] << 8
                if filter is None or filter == company:
                    yield company, value[2:]


class scan:
    """`async with aioble.scan(...) as s: async for result in s:` (or iterate directly).

    Yields each device once, and again whenever it sends new advertising or
    scan-response data.  The iteration ends when the duration is over, on
    cancel(), on a connection attempt or on aioble.stop(); leaving the `async
    with` block stops the scan.
    """

    def __init__(self, duration_ms, interval_us=None, window_us=None, active=False):
        if not isinstance(duration_ms, int) or duration_ms < 0:
            raise ValueError("duration_ms must be an int >= 0")
        self._args = (duration_ms, interval_us or 1280000, window_us or 11250, bool(active))
        self._results = {}  # (addr_type, addr) -> ScanResult
        self._queue = []  # results to yield next
        self._state = 0  # 0 not started, 1 scanning, 2 done

    def _start(self):
        global _scanner
        if _scanner:
            _scanner.cancel()
        self._state = 1
        _scanner = self
        try:
            ble().gap_scan(*self._args)
        except:
            self._state = 2
            _scanner = None
            raise

    def cancel(self):
        global _scanner
        if _scanner is self:
            _scanner = None
            ble().gap_scan(None)
        self._state = 2
        wake(self)

    async def __aenter__(self):
        self._start()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.cancel()

    def __aiter__(self):
        if not self._state:
            self._start()
        return self

    async def __anext__(self):
        await wait(self, lambda: self._queue or self._state == 2)
        if self._queue:
            return self._queue.pop(0)
        raise StopAsyncIteration


def _scan_event(event, data):
    global _scanner
    s = _scanner
    if not s:
        return
    if event == _IRQ_SCAN_DONE:
        s._state = 2
        _scanner = None
    else:
        addr_type, addr, adv_type, rssi, adv_data = data
        key = (addr_type, bytes(addr))
        r = s._results.get(key)
        if r is None:
            r = s._results[key] = ScanResult(Device(addr_type, key[1]))
        if r._update(adv_type, rssi, bytes(adv_data)) and r not in s._queue:
            s._queue.append(r)
    wake(s)


async def _connect(device, timeout_ms, scan_duration_ms, min_conn_interval_us, max_conn_interval_us):
    global _connecting
    if _connecting:
        raise OSError(114, "EALREADY")  # the stack makes one connection attempt at a time
    b = ble()
    if _scanner:
        _scanner.cancel()
    conn = DeviceConnection(device)
    _connecting = conn
    try:
        b.gap_connect(device.addr_type, device.addr, scan_duration_ms or timeout_ms, min_conn_interval_us, max_conn_interval_us)
        try:
            await wait(conn, lambda: conn._conn_handle is not None or _connecting is not conn, timeout_ms)
        except asyncio.TimeoutError:
            pass
        if conn._conn_handle is None and _opened is not conn:  # our timeout, or the stack gave up first
            raise asyncio.TimeoutError
        return conn
    finally:
        if _connecting is conn:  # timeout or cancellation: stop the attempt too
            _connecting = None
            try:
                b.gap_connect(None)
            except OSError:
                pass


def _connect_event(event, data):
    # Connect and disconnect can both be handled before connect()'s task runs again (a
    # slow handler, a busy core): the link did open, so connect() returns it, already over.
    global _connecting, _opened
    conn_handle = data[0]
    c = _connecting
    if event == _IRQ_PERIPHERAL_CONNECT:
        if c:
            c._start(conn_handle)
            _connecting = None
            _opened = c
            wake(c)
        else:  # connected after we gave up: nobody can use this link
            ble().gap_disconnect(conn_handle)
    elif conn_handle in _connected:
        _lost(conn_handle)
    elif c:  # the attempt failed or was cancelled
        _connecting = None
        wake(c)


def _stop():
    # A pending connect() is left to fail with ENODEV in its wait (and clean up itself).
    global _scanner
    if _scanner:
        _scanner._state = 2
    _scanner = None


handle(_scan_event, _IRQ_SCAN_RESULT, _IRQ_SCAN_DONE)
handle(_connect_event, _IRQ_PERIPHERAL_CONNECT, _IRQ_PERIPHERAL_DISCONNECT)
_stoppers.append(_stop)
