"""`Connection`: one link to a peer, and the GATT client procedures that run on it.

A procedure (discovery, read, write, MTU exchange, pairing) is started with a `bluetooth`
call and completed by irq events; `_run` waits for its end, the link's end or a timeout.
"""

from . import _wait
from ._attribute import check_number
from ._errors import BluetoothError, ConnectionError, SecurityError, att_error, from_oserror, needs_extension, not_connected
from ._uuid import UUID

_IRQ_GATTC_SERVICE_RESULT = 9
_IRQ_GATTC_SERVICE_DONE = 10
_IRQ_GATTC_CHARACTERISTIC_RESULT = 11
_IRQ_GATTC_CHARACTERISTIC_DONE = 12
_IRQ_GATTC_DESCRIPTOR_RESULT = 13
_IRQ_GATTC_DESCRIPTOR_DONE = 14
_IRQ_GATTC_READ_RESULT = 15
_IRQ_GATTC_READ_DONE = 16
_IRQ_GATTC_WRITE_DONE = 17
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28

_RESULT_EVENTS = {
    _IRQ_GATTC_SERVICE_RESULT: "services",
    _IRQ_GATTC_CHARACTERISTIC_RESULT: "characteristics",
    _IRQ_GATTC_DESCRIPTOR_RESULT: "descriptors",
}
_DONE_EVENTS = {
    _IRQ_GATTC_SERVICE_DONE: "services",
    _IRQ_GATTC_CHARACTERISTIC_DONE: "characteristics",
    _IRQ_GATTC_DESCRIPTOR_DONE: "descriptors",
}

# Declarations that descriptor discovery reports but that are not descriptors.
_NOT_DESCRIPTORS = (0x2800, 0x2801, 0x2802, 0x2803)

GATT_TIMEOUT = 10.0  # seconds a GATT procedure may take before we give up
PAIR_TIMEOUT = 30.0
_ATT_DEFAULT_MTU = 23


class _Procedure:
    __slots__ = ("kind", "handle", "results", "status")

    def __init__(self, kind, handle):
        self.kind = kind
        self.handle = handle
        self.results = []
        self.status = None


class Connection:
    """A BLE connection to another device (made by Adapter.connect or by a peer connecting)."""

    def __init__(self, adapter, handle, address, role):
        self._adapter = adapter
        self._handle = handle
        self._address = address
        self._role = role  # our role: "central" or "peripheral"
        self._connected = True
        self._mtu = _ATT_DEFAULT_MTU
        self._interval_us = None
        self._encrypted = False
        self._bonded = False
        self._security_updates = 0
        self._proc = None
        self._lock = _wait.new_lock()
        self._listeners = {}  # value handle -> [buffer objects fed by notifications]
        self._services = ()

    def __repr__(self):
        return "<Connection %r %s>" % (self._address, "connected" if self._connected else "disconnected")

    # ---- public API -------------------------------------------------------------

    @property
    def connected(self):
        """True while connected to the peer."""
        return self._connected

    @property
    def paired(self):
        """True once the link is encrypted (paired) with the peer."""
        return self._connected and self._encrypted

    @property
    def connection_interval(self):
        """Time between transmissions, in milliseconds (a multiple of 1.25)."""
        self._check()
        ble = self._adapter._ble
        if self._interval_us is None:
            if not hasattr(ble, "gap_connection_info"):
                raise needs_extension("Connection.connection_interval", "gap_connection_info")
            try:
                self._interval_us = ble.gap_connection_info(self._handle)["interval_us"]
            except OSError as exc:
                raise from_oserror("connection_interval", exc)
        return self._interval_us / 1000

    @connection_interval.setter
    def connection_interval(self, value):
        ms = check_number(value, "connection_interval")
        if not 7.5 <= ms <= 4000:
            raise ValueError("connection_interval must be in range 7.5-4000 ms")
        self._check()
        ble = self._adapter._ble
        if not hasattr(ble, "gap_connection_update"):
            raise needs_extension("setting Connection.connection_interval", "gap_connection_update")
        units = int(ms / 1.25 + 0.5)
        before = self._interval_us
        seen = [self._updates_seen()]
        try:
            ble.gap_connection_update(self._handle, units * 1250, units * 1250)
        except OSError as exc:
            raise from_oserror("connection_interval", exc)
        # The peer may refuse; then the interval stays what it was.
        _wait.until(lambda: self._updates_seen() != seen[0] or not self._connected, 5.0)
        if not self._connected:
            raise not_connected()
        if self._interval_us is None:
            self._interval_us = before

    @property
    def max_packet_length(self):
        """Largest notification/write payload in one packet: ATT MTU - 3."""
        self._check()
        return self._mtu - 3

    def disconnect(self):
        """Disconnect from the peer; nothing happens if already disconnected."""
        if not self._connected:
            return
        ble = self._adapter._ble
        try:
            ble.gap_disconnect(self._handle)
        except OSError:
            return
        _wait.until(lambda: not self._connected, 5.0)

    def pair(self, *, bond=True):
        """Pair (and by default bond) with the peer to encrypt the link; SecurityError on failure."""
        self._check()
        ble = self._adapter._ble
        if not hasattr(ble, "gap_pair"):
            raise NotImplementedError("Connection.pair needs gap_pair, which this board's bluetooth module lacks")
        if self._encrypted:
            return
        seen = self._security_updates
        ble.config(bond=bool(bond))
        try:
            ble.gap_pair(self._handle)
        except OSError as exc:
            raise from_oserror("pair", exc)
        _wait.until(lambda: self._security_updates != seen or not self._connected, PAIR_TIMEOUT)
        if not self._connected:
            raise not_connected()
        if self._security_updates == seen:
            raise SecurityError("Pairing timed out")
        if not self._encrypted:
            raise SecurityError("Failed to pair")

    def discover_remote_services(self, service_uuids_whitelist=None):
        """Discover the peer's services (only the listed UUIDs if a whitelist is given)."""
        from ._characteristic import Characteristic
        from ._descriptor import Descriptor
        from ._service import Service

        wanted = None
        if service_uuids_whitelist is not None:
            wanted = []
            try:
                items = list(service_uuids_whitelist)
            except TypeError:
                raise TypeError("service_uuids_whitelist must be an iterable of UUID")
            for u in items:
                if not isinstance(u, UUID):
                    raise TypeError("service_uuids_whitelist must contain only UUID objects")
                wanted.append(u)
        self._check()
        ble = self._adapter._ble
        found = []
        if wanted is None:
            found = self._run("services", None, lambda: ble.gattc_discover_services(self._handle)).results
        else:
            for u in wanted:
                bt_uuid = u._to_bluetooth()
                proc = self._run("services", None, lambda bt_uuid=bt_uuid: ble.gattc_discover_services(self._handle, bt_uuid))
                for item in proc.results:
                    if item not in found:
                        found.append(item)
        services = []
        for start, end, uuid in found:
            service = Service._remote(self, uuid, start, end)
            chars = self._run(
                "characteristics", None, lambda start=start, end=end: ble.gattc_discover_characteristics(self._handle, start, end)
            ).results
            for char_end, value_handle, props, cuuid in chars:
                char_end = min(char_end, end)
                char = Characteristic._remote(service, cuuid, value_handle, props)
                if value_handle < char_end:
                    descs = self._run(
                        "descriptors",
                        None,
                        lambda value_handle=value_handle, char_end=char_end: ble.gattc_discover_descriptors(
                            self._handle, value_handle, char_end
                        ),
                    ).results
                    for dhandle, duuid in descs:
                        if duuid is None or (duuid.size == 16 and duuid.uuid16 in _NOT_DESCRIPTORS):
                            continue  # a declaration, not a descriptor
                        Descriptor._remote(char, duuid, dhandle)
            services.append(service)
        self._services = tuple(services)
        return self._services

    # ---- used by characteristics, descriptors and buffers ----------------------

    def _check(self):
        if not self._connected:
            raise not_connected()

    def _run(self, kind, handle, start, timeout=GATT_TIMEOUT):
        """Start a procedure with `start()` and wait for its DONE event; returns the procedure."""
        with self._lock:
            self._check()
            proc = _Procedure(kind, handle)
            self._proc = proc
            try:
                try:
                    start()
                except OSError as exc:
                    raise from_oserror(kind, exc)
                _wait.until(lambda: proc.status is not None or not self._connected, timeout)
            finally:
                self._proc = None
            if proc.status is None:
                if not self._connected:
                    raise not_connected()
                raise BluetoothError("%s timed out" % kind)
            if proc.status != 0 and kind in _DONE_EVENTS.values():
                raise att_error("discover " + kind, proc.status)
            return proc

    def _read(self, handle):
        ble = self._adapter._ble
        proc = self._run("read", handle, lambda: ble.gattc_read(self._handle, handle))
        if proc.status:
            raise att_error("read", proc.status)
        return bytearray(b"".join(proc.results))

    def _write(self, handle, data, with_response):
        ble = self._adapter._ble
        if len(data) > self._mtu - 3:
            raise ValueError("value length %d > max_packet_length %d" % (len(data), self._mtu - 3))
        if not with_response:
            with self._lock:
                self._check()
                self._send_retrying(lambda: ble.gattc_write(self._handle, handle, data, 0))
            return
        proc = self._run("write", handle, lambda: ble.gattc_write(self._handle, handle, data, 1))
        if proc.status:
            raise att_error("write", proc.status)

    def _send_retrying(self, send, timeout=GATT_TIMEOUT):
        """Call `send()`; while the transmit queue is full (ENOMEM/EAGAIN) wait a little and retry."""
        waited = 0.0
        pause = 0.0005
        while True:
            try:
                return send()
            except OSError as exc:
                errno = exc.args[0] if exc.args else 0
                if errno not in (11, 12) or waited >= timeout:
                    raise from_oserror("send", exc)
            if not self._connected:
                raise not_connected()
            _wait.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.01)

    def _exchange_mtu(self):
        """Ask for the largest ATT MTU once after connecting, as CircuitPython does."""
        ble = self._adapter._ble
        if self._mtu != _ATT_DEFAULT_MTU:
            return
        try:
            self._run("mtu", None, lambda: ble.gattc_exchange_mtu(self._handle), timeout=5.0)
        except (BluetoothError, ConnectionError):
            pass

    def _updates_seen(self):
        return self._interval_us, getattr(self, "_update_count", 0)

    def _gone(self):
        self._connected = False
        self._encrypted = False
        self._listeners = {}

    # ---- events from the adapter ------------------------------------------------

    def _on_notify(self, value_handle, data):
        for listener in self._listeners.get(value_handle, ()):
            listener._push(self._handle, data)

    def _on_passkey(self, action, passkey):
        ble = self._adapter._ble
        if action == 4:  # numeric comparison: CircuitPython pairs "just works" style
            ble.gap_passkey(self._handle, action, 1)

    def _on_event(self, event, data):
        proc = self._proc
        if event in _RESULT_EVENTS:
            if proc is not None and proc.kind == _RESULT_EVENTS[event]:
                if event == _IRQ_GATTC_SERVICE_RESULT:
                    proc.results.append((data[1], data[2], UUID._from_bluetooth(data[3])))
                elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
                    proc.results.append((data[1], data[2], data[3], UUID._from_bluetooth(data[4])))
                else:
                    proc.results.append((data[1], UUID._from_bluetooth(data[2])))
        elif event in _DONE_EVENTS:
            if proc is not None and proc.kind == _DONE_EVENTS[event]:
                proc.status = data[1]
        elif event == _IRQ_GATTC_READ_RESULT:
            if proc is not None and proc.kind == "read" and proc.handle == data[1]:
                proc.results.append(bytes(data[2]))
        elif event == _IRQ_GATTC_READ_DONE:
            if proc is not None and proc.kind == "read" and proc.handle == data[1]:
                proc.status = data[2]
        elif event == _IRQ_GATTC_WRITE_DONE:
            if proc is not None and proc.kind == "write" and proc.handle == data[1]:
                proc.status = data[2]
        elif event == _IRQ_MTU_EXCHANGED:
            self._mtu = data[1]
            if proc is not None and proc.kind == "mtu":
                proc.status = 0
        elif event == _IRQ_CONNECTION_UPDATE:
            if data[4] == 0:
                self._interval_us = data[1] * 1250
            self._update_count = getattr(self, "_update_count", 0) + 1
        elif event == _IRQ_ENCRYPTION_UPDATE:
            self._encrypted = bool(data[1])
            self._bonded = bool(data[3])
            self._security_updates += 1
