"""`Characteristic`: a local characteristic (its value lives in our GATT server) or a remote one.

Local values are checked against max_length / fixed_length here (ValueError, old value
kept); remote writes that break those rules are refused by the port with an ATT error
where it supports `gatts_set_length`.
"""

from . import _attribute as A
from ._attribute import Attribute, check_buffer, check_int, check_mode
from ._errors import BluetoothError, RoleError, from_oserror
from ._uuid import UUID

_GATT_MAX_LENGTH = 512  # longest attribute value (Core spec Vol 3 Part F 3.2.9)

# CircuitPython property bits -> MicroPython flags (also the GATT properties byte, reordered)
_PROPS = (
    (0x01, A.FLAG_BROADCAST),
    (0x02, A.FLAG_INDICATE),
    (0x04, A.FLAG_NOTIFY),
    (0x08, A.FLAG_READ),
    (0x10, A.FLAG_WRITE),
    (0x20, A.FLAG_WRITE_NO_RESPONSE),
)


class Characteristic:
    """A GATT characteristic of a Service."""

    BROADCAST = 0x01
    INDICATE = 0x02
    NOTIFY = 0x04
    READ = 0x08
    WRITE = 0x10
    WRITE_NO_RESPONSE = 0x20

    def __init__(self):
        raise TypeError("use Characteristic.add_to_service()")

    @classmethod
    def add_to_service(
        cls,
        service,
        uuid,
        *,
        properties=0,
        read_perm=Attribute.OPEN,
        write_perm=Attribute.OPEN,
        max_length=20,
        fixed_length=False,
        initial_value=None,
        user_description=None,
    ):
        """Create a local characteristic and add it to `service`."""
        from ._service import Service

        if not isinstance(service, Service):
            raise TypeError("service must be of type Service")
        if service.remote:
            raise RoleError("Cannot add a Characteristic to a remote Service")
        if not isinstance(uuid, UUID):
            raise TypeError("uuid must be of type UUID")
        properties = check_int(properties, "properties", 0, 0xFF)
        if properties & ~0x3F:
            raise ValueError("Invalid properties")
        check_mode(read_perm, "read_perm")
        check_mode(write_perm, "write_perm")
        max_length = check_int(max_length, "max_length", 0, _GATT_MAX_LENGTH)
        fixed_length = bool(fixed_length)
        if initial_value is None:
            value = bytes(max_length) if fixed_length else b""
        else:
            value = check_buffer(initial_value, "initial_value")
        if len(value) > max_length or (fixed_length and len(value) != max_length):
            raise ValueError("initial_value length is wrong")
        if user_description is not None and not isinstance(user_description, str):
            raise TypeError("user_description must be a str")
        self = object.__new__(cls)
        self._init(service, uuid, properties)
        self._read_perm = read_perm
        self._write_perm = write_perm
        self._max_length = max_length
        self._fixed = fixed_length
        self._value = value
        self._user_description = user_description
        self._incoming = []  # buffers fed by remote writes
        self._indications = {}
        service._characteristics.append(self)
        service._server.changed()
        if user_description is not None:
            from ._descriptor import Descriptor

            text = user_description.encode()
            Descriptor.add_to_characteristic(
                self, UUID(0x2901), write_perm=Attribute.NO_ACCESS, max_length=max(len(text), 1), initial_value=text
            )
        return self

    @classmethod
    def _remote(cls, service, uuid, value_handle, gatt_props):
        self = object.__new__(cls)
        props = 0
        for bit, flag in _PROPS:
            if gatt_props & flag:
                props |= bit
        self._init(service, uuid, props)
        self._handle = value_handle
        self._max_length = _GATT_MAX_LENGTH
        self._fixed = False
        service._characteristics.append(self)
        return self

    def _init(self, service, uuid, properties):
        self._service = service
        self._uuid = uuid
        self._props = properties
        self._descriptors = []
        self._handle = None

    # ---- public API ---------------------------------------------------------------

    @property
    def properties(self):
        """Bitmask of BROADCAST, INDICATE, NOTIFY, READ, WRITE, WRITE_NO_RESPONSE."""
        return self._props

    @property
    def uuid(self):
        return self._uuid

    @property
    def max_length(self):
        return self._max_length

    @property
    def descriptors(self):
        """Tuple of this characteristic's descriptors (read-only)."""
        return tuple(self._descriptors)

    @property
    def service(self):
        return self._service

    @property
    def value(self):
        """The value: local store, or a GATT read of the peer's (blocks until answered)."""
        conn = self._service._remote_conn
        if conn is not None:
            return conn._read(self._handle)
        ble = self._ble()
        if ble is not None and not self._incoming_append():
            return bytearray(ble.gatts_read(self._handle))
        return bytearray(self._value)

    @value.setter
    def value(self, value):
        data = check_buffer(value, "value")
        conn = self._service._remote_conn
        if conn is not None:
            with_response = not (self._props & Characteristic.WRITE_NO_RESPONSE)
            if not self._props & (Characteristic.WRITE | Characteristic.WRITE_NO_RESPONSE):
                raise BluetoothError("Characteristic is not writable")
            conn._write(self._handle, data, with_response)
            return
        if len(data) > self._max_length:
            raise ValueError("Value length > max_length")
        if self._fixed and len(data) != self._max_length:
            raise ValueError("Value length != required fixed length")
        self._value = data
        ble = self._ble()
        if ble is None:
            return
        notify = bool(self._props & (Characteristic.NOTIFY | Characteristic.INDICATE))
        adapter = self._service._server._adapter
        conns = [c for c in adapter._conns.values()]

        def send():
            return ble.gatts_write(self._handle, data, notify)

        if notify and conns:
            conns[0]._send_retrying(send)
        else:
            try:
                send()
            except OSError as exc:
                raise from_oserror("write value", exc)

    def set_cccd(self, *, notify=False, indicate=False):
        """Subscribe to (or unsubscribe from) the remote characteristic's notifications/indications."""
        conn = self._service._remote_conn
        if conn is None:
            raise RoleError("Can't set CCCD on local Characteristic")
        cccd = None
        for d in self._descriptors:
            if d._uuid == UUID(0x2902):
                cccd = d._handle
        if cccd is None:
            if not self._props & (Characteristic.NOTIFY | Characteristic.INDICATE):
                raise BluetoothError("Characteristic has no CCCD: it cannot notify or indicate")
            cccd = self._handle + 1
        bits = (1 if notify else 0) | (2 if indicate else 0)
        conn._write(cccd, bytes((bits, 0)), True)

    def __repr__(self):
        return "<Characteristic %r>" % (self._uuid,)

    # ---- local server plumbing (used by _gatts and the buffers) ---------------------

    def _ble(self):
        """Our BLE object if this local characteristic is registered on an active radio, else None."""
        if self._handle is None:
            return None
        ble = self._service._server._adapter._ble
        if ble is None or not ble.active():
            return None
        return ble

    def _local_descriptors(self):
        return self._descriptors

    def _flags(self):
        flags = 0
        for bit, flag in _PROPS:
            if self._props & bit:
                flags |= flag
        if self._read_perm == Attribute.NO_ACCESS:
            flags &= ~A.FLAG_READ
        if self._write_perm == Attribute.NO_ACCESS:
            flags &= ~(A.FLAG_WRITE | A.FLAG_WRITE_NO_RESPONSE)
        if flags & A.FLAG_READ:
            flags |= A.read_flags(self._read_perm)
        if flags & (A.FLAG_WRITE | A.FLAG_WRITE_NO_RESPONSE):
            flags |= A.write_flags(self._write_perm)
        return flags

    def _incoming_append(self):
        for buf in self._incoming:
            if buf._append_mode:
                return True
        return False

    def _install(self, ble):
        """After registration: size the value store, set the length rules, restore the value."""
        append = self._incoming_append()
        capacity = max(self._max_length, 1)
        if append:
            capacity = max(capacity, sum(b._capacity for b in self._incoming) + self._max_length)
        ble.gatts_set_buffer(self._handle, capacity, append)
        if hasattr(ble, "gatts_set_length"):
            ble.gatts_set_length(self._handle, self._max_length, self._fixed)
        if not append:
            ble.gatts_write(self._handle, self._value)

    def _save(self, ble):
        if not self._incoming_append():
            self._value = bytes(ble.gatts_read(self._handle))

    def _on_remote_write(self, ble, conn_handle):
        data = bytes(ble.gatts_read(self._handle))
        if not self._incoming_append():
            self._value = data
        for buf in self._incoming:
            buf._push(conn_handle, data)

    def _forget(self, conn_handle):
        self._indications.pop(conn_handle, None)
        for buf in self._incoming:
            buf._forget(conn_handle)

    def _attach(self, buf):
        """Start feeding `buf` (a CharacteristicBuffer/PacketBuffer) with incoming values."""
        conn = self._service._remote_conn
        if conn is not None:
            conn._listeners.setdefault(self._handle, []).append(buf)
            return
        self._incoming.append(buf)
        ble = self._ble()
        if ble is not None:
            self._install(ble)

    def _detach(self, buf):
        conn = self._service._remote_conn
        if conn is not None:
            lst = conn._listeners.get(self._handle, [])
        else:
            lst = self._incoming
        if buf in lst:
            lst.remove(buf)
        if conn is None:
            ble = self._ble()
            if ble is not None:
                self._install(ble)
