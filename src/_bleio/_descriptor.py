"""`Descriptor`: a local descriptor of a local characteristic, or a discovered remote one."""

from . import _attribute as A
from ._attribute import Attribute, check_buffer, check_int, check_mode
from ._errors import RoleError
from ._uuid import UUID


class Descriptor:
    """A GATT descriptor attached to a Characteristic."""

    def __init__(self):
        raise TypeError("use Descriptor.add_to_characteristic()")

    @classmethod
    def add_to_characteristic(
        cls,
        characteristic,
        uuid,
        *,
        read_perm=Attribute.OPEN,
        write_perm=Attribute.OPEN,
        max_length=20,
        fixed_length=False,
        initial_value=b"",
    ):
        """Create a local descriptor and add it to `characteristic`."""
        from ._characteristic import Characteristic

        if not isinstance(characteristic, Characteristic):
            raise TypeError("characteristic must be of type Characteristic")
        if characteristic._service.remote:
            raise RoleError("Cannot add a Descriptor to a remote Characteristic")
        if not isinstance(uuid, UUID):
            raise TypeError("uuid must be of type UUID")
        check_mode(read_perm, "read_perm")
        check_mode(write_perm, "write_perm")
        max_length = check_int(max_length, "max_length", 0, 512)
        value = check_buffer(initial_value, "initial_value")
        if len(value) > max_length or (fixed_length and len(value) != max_length):
            raise ValueError("initial_value length is wrong")
        self = object.__new__(cls)
        self._characteristic = characteristic
        self._uuid = uuid
        self._read_perm = read_perm
        self._write_perm = write_perm
        self._max_length = max_length
        self._fixed = bool(fixed_length)
        self._value = value
        self._handle = None
        characteristic._descriptors.append(self)
        characteristic._service._server.changed()
        return self

    @classmethod
    def _remote(cls, characteristic, uuid, handle):
        self = object.__new__(cls)
        self._characteristic = characteristic
        self._uuid = uuid
        self._handle = handle
        self._max_length = 512
        self._fixed = False
        characteristic._descriptors.append(self)
        return self

    @property
    def uuid(self):
        return self._uuid

    @property
    def characteristic(self):
        return self._characteristic

    @property
    def value(self):
        """The value: local store, or a GATT read of the peer's descriptor."""
        conn = self._characteristic._service._remote_conn
        if conn is not None:
            return conn._read(self._handle)
        ble = self._ble()
        if ble is not None:
            return bytearray(ble.gatts_read(self._handle))
        return bytearray(self._value)

    @value.setter
    def value(self, value):
        data = check_buffer(value, "value")
        conn = self._characteristic._service._remote_conn
        if conn is not None:
            conn._write(self._handle, data, True)
            return
        if len(data) > self._max_length:
            raise ValueError("Value length > max_length")
        if self._fixed and len(data) != self._max_length:
            raise ValueError("Value length != required fixed length")
        self._value = data
        ble = self._ble()
        if ble is not None:
            ble.gatts_write(self._handle, data)

    def __repr__(self):
        return "<Descriptor %r>" % (self._uuid,)

    # ---- local server plumbing -----------------------------------------------------

    def _ble(self):
        if self._handle is None:
            return None
        ble = self._characteristic._service._server._adapter._ble
        if ble is None or not ble.active():
            return None
        return ble

    def _flags(self):
        flags = 0
        if self._read_perm != Attribute.NO_ACCESS:
            flags |= A.FLAG_READ | A.read_flags(self._read_perm)
        if self._write_perm != Attribute.NO_ACCESS:
            flags |= A.FLAG_WRITE | A.write_flags(self._write_perm)
        return flags

    def _install(self, ble):
        ble.gatts_set_buffer(self._handle, max(self._max_length, 1), False)
        if hasattr(ble, "gatts_set_length"):
            ble.gatts_set_length(self._handle, self._max_length, self._fixed)
        ble.gatts_write(self._handle, self._value)

    def _save(self, ble):
        self._value = bytes(ble.gatts_read(self._handle))

    def _on_remote_write(self, ble, conn_handle):
        self._value = bytes(ble.gatts_read(self._handle))

    def _forget(self, conn_handle):
        pass
