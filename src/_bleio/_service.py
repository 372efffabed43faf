"""`Service`: a local service (added to the adapter's GATT server) or a discovered remote one."""

from . import _adapter
from ._errors import BluetoothError, needs_extension
from ._uuid import UUID


class Service:
    """A BLE service and its characteristics."""

    def __init__(self, uuid, *, secondary=False):
        if not isinstance(uuid, UUID):
            raise TypeError("uuid must be of type UUID")
        adapter = _adapter.current[0]
        if adapter is None:
            raise BluetoothError("No adapter available")
        if secondary:
            import bluetooth

            if not hasattr(bluetooth.BLE, "new"):
                raise needs_extension("a secondary Service", "gatts_register_services service options")
        self._uuid = uuid
        self._secondary = bool(secondary)
        self._remote_conn = None
        self._characteristics = []
        self._server = adapter._server
        self._server.add_service(self)

    @classmethod
    def _remote(cls, connection, uuid, start_handle, end_handle):
        self = object.__new__(cls)
        self._uuid = uuid
        self._secondary = False
        self._remote_conn = connection
        self._characteristics = []
        self._server = None
        self._start_handle = start_handle
        self._end_handle = end_handle
        return self

    @property
    def characteristics(self):
        """Tuple of this service's characteristics (read-only)."""
        return tuple(self._characteristics)

    @property
    def remote(self):
        """True if the service is provided by a peer (read-only)."""
        return self._remote_conn is not None

    @property
    def secondary(self):
        """True if this is a secondary service (read-only)."""
        return self._secondary

    @property
    def uuid(self):
        """The service UUID (read-only)."""
        return self._uuid

    @property
    def connection(self):
        """The connection of a remote service (None for a local one)."""
        return self._remote_conn

    def __repr__(self):
        return "<Service %r%s>" % (self._uuid, " remote" if self.remote else "")
