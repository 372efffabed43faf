"""The local GATT database of one adapter, registered with `gatts_register_services`.

CircuitPython adds services and characteristics one at a time, whenever it likes;
MicroPython registers the whole database at once and only while idle. So we collect
the definitions and (re-)register lazily before advertising or connecting, keeping the
values across re-registration.
"""

from ._errors import BluetoothError


class Server:
    def __init__(self, adapter):
        self._adapter = adapter
        self.services = []
        self._by_handle = {}
        self._dirty = False
        self._registered = False

    def add_service(self, service):
        self.services.append(service)
        self._dirty = True

    def changed(self):
        self._dirty = True

    def reset(self):
        """The radio stopped: the port forgot the database, values live on in our objects."""
        if self._registered:
            self._save_values()
        for attr in self._by_handle.values():
            attr._handle = None
        self._by_handle = {}
        self._registered = False
        self._dirty = bool(self.services)

    def ensure(self):
        """Register the database if it changed; the radio must be idle (not advertising or connected)."""
        if not self._dirty:
            return
        adapter = self._adapter
        ble = adapter._start()
        if adapter._conns or adapter.advertising:
            return  # cannot change the database now; it will be registered when idle
        if self._registered:
            self._save_values()
        definition = []
        attrs = []
        for service in self.services:
            chars = []
            for char in service._characteristics:
                descs = []
                for desc in char._local_descriptors():
                    descs.append((desc._uuid._to_bluetooth(), desc._flags()))
                chars.append((char._uuid._to_bluetooth(), char._flags(), tuple(descs)))
            if service._secondary:  # bleboard port extension (checked when the Service was made)
                definition.append((service._uuid._to_bluetooth(), tuple(chars), {"secondary": True}))
            else:
                definition.append((service._uuid._to_bluetooth(), tuple(chars)))
        try:
            handles = ble.gatts_register_services(tuple(definition))
        except OSError as exc:
            raise BluetoothError("registering services failed: %s" % exc)
        by_handle = {}
        for service, service_handles in zip(self.services, handles):
            i = 0
            for char in service._characteristics:
                char._handle = service_handles[i]
                attrs.append(char)
                i += 1
                for desc in char._local_descriptors():
                    desc._handle = service_handles[i]
                    attrs.append(desc)
                    i += 1
        for attr in attrs:
            by_handle[attr._handle] = attr
            attr._install(ble)
        self._by_handle = by_handle
        self._registered = True
        self._dirty = False

    def _save_values(self):
        ble = self._adapter._ble
        for attr in self._by_handle.values():
            attr._save(ble)

    # ---- events -----------------------------------------------------------------

    def on_write(self, conn_handle, attr_handle):
        attr = self._by_handle.get(attr_handle)
        if attr is not None:
            attr._on_remote_write(self._adapter._ble, conn_handle)

    def on_indicate_done(self, conn_handle, value_handle, status):
        attr = self._by_handle.get(value_handle)
        if attr is not None and hasattr(attr, "_indications"):
            attr._indications.pop(conn_handle, None)

    def forget(self, conn_handle):
        """A connection ended: drop its per-connection state (PacketBuffer subscribers, indications)."""
        for attr in self._by_handle.values():
            attr._forget(conn_handle)
