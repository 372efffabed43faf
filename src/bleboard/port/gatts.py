"""GATT server for the port: MicroPython's attribute layout over Bumble's ATT server.

Layout per characteristic is NimBLE's (spec §3.8): declaration, value, CCCD (if notify or
indicate), then the user descriptors. Values are not stored here: every remote read and
write goes through the binding's value store on the main thread (bluetooth._sink),
so the irq handler and the value it sees are always in step. Permission checks are ours,
since Bumble's attribute layer does not check READ/WRITE properties.
"""

import asyncio
import logging

from bumble import att
from bumble.core import UUID as BumbleUUID
from bumble.gatt import (
    GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
    GATT_DEVICE_NAME_CHARACTERISTIC,
    Characteristic,
    Descriptor,
    Service,
)

from . import bumble_compat

from bluetooth._port import (
    EBUSY, EINVAL, FLAG_INDICATE, FLAG_NOTIFY, FLAG_READ, FLAG_READ_AUTHENTICATED, FLAG_READ_ENCRYPTED, FLAG_WRITE,
    FLAG_WRITE_AUTHENTICATED, FLAG_WRITE_ENCRYPTED, FLAG_WRITE_NO_RESPONSE, STATUS_ENOTCONN, STATUS_ETIMEOUT,
    PortError,
)

log = logging.getLogger("bleboard.port")

ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_INSUFFICIENT_ENCRYPTION = 0x0F
ATT_INVALID_ATTRIBUTE_LENGTH = 0x0D
ATT_UNLIKELY_ERROR = 0x0E

# How long a client's read or write may wait for the application's irq handler.
HANDLER_TIMEOUT = 5.0
INDICATION_TIMEOUT = 30.0
# Queued indications per connection before gatts_indicate answers ENOMEM.
MAX_QUEUED_INDICATIONS = 16


def bumble_uuid(uuid):
    return BumbleUUID.from_bytes(bytes(uuid))


class GattServer:
    def __init__(self, port):
        self.port = port
        self.device = None
        self.values = {}  # value handle -> (Characteristic|Descriptor, flags)
        self.preferred_mtu = 256
        self.gap_name_attr = None

    def attach(self, device):
        self.device = device

    # ---- database ---------------------------------------------------------
    def reset(self):
        """Only the built-in GAP and GATT services remain (spec §3.1)."""
        server = self.device.gatt_server
        server.attributes = []
        server.attributes_by_handle = {}
        server.services = []
        self.device.add_default_services()
        self.values = {}
        self.gap_name_attr = None
        for attribute in server.attributes:
            if attribute.type == GATT_DEVICE_NAME_CHARACTERISTIC and isinstance(attribute, Characteristic):
                self.gap_name_attr = attribute
        self.set_gap_name(self.port.settings["gap_name"])

    def set_gap_name(self, name):
        self.port.settings["gap_name"] = name
        if self.gap_name_attr is not None:
            self.gap_name_attr.value = bytes(name)

    def set_preferred_mtu(self, mtu):
        self.preferred_mtu = mtu
        if self.device is not None:
            self.device.gatt_server.max_mtu = mtu

    async def register(self, definitions):
        gap = self.port.gap
        if gap.advertising or gap.scanning or gap.connecting is not None or self.port.links:
            raise PortError(EBUSY, "register services before advertising, scanning or connecting")
        self.reset()
        server = self.device.gatt_server
        result = []
        for s_uuid, chars, secondary in definitions:
            built = []
            for c_uuid, flags, descs in chars:
                built.append(self._characteristic(c_uuid, flags, descs))
            service = Service(bumble_uuid(s_uuid), [c for c, _ in built], primary=not secondary)
            server.add_service(service)
            handles = []
            for characteristic, user_descs in built:
                handles.append(characteristic.handle)
                self.values[characteristic.handle] = (characteristic, characteristic.mp_flags)
                for d in user_descs:
                    handles.append(d.handle)
                    self.values[d.handle] = (d, d.mp_flags)
            result.append(tuple(handles))
        return tuple(result)

    def _characteristic(self, c_uuid, flags, descs):
        props = Characteristic.Properties(flags & 0xFF)
        characteristic = Characteristic(
            bumble_uuid(c_uuid), props, att.Attribute.READABLE | att.Attribute.WRITEABLE, None, (),
        )
        characteristic.mp_flags = flags
        characteristic.value = self._attribute_value(characteristic)
        descriptors = []
        if flags & (FLAG_NOTIFY | FLAG_INDICATE):
            # Our own CCCD first, so Bumble doesn't append one after the user descriptors.
            descriptors.append(Descriptor(
                GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
                att.Attribute.READABLE | att.Attribute.WRITEABLE,
                self.device.gatt_server.make_descriptor_value(characteristic),
            ))
        user = []
        for d_uuid, d_flags in descs:
            d = Descriptor(bumble_uuid(d_uuid), att.Attribute.READABLE | att.Attribute.WRITEABLE, None)
            d.mp_flags = d_flags
            d.value = self._attribute_value(d)
            user.append(d)
        characteristic.descriptors = descriptors + user
        return characteristic, user

    def _attribute_value(self, attribute):
        return att.AttributeValue(
            read=lambda connection: self._remote_read(connection, attribute),
            write=lambda connection, value: self._remote_write(connection, attribute, value),
        )

    def check_handle(self, value_handle):
        if value_handle not in self.values:
            raise PortError(EINVAL, "unknown value handle %d" % value_handle)

    # ---- remote access ----------------------------------------------------
    def _check(self, connection, flags, need, encrypted_flag, authenticated_flag, denied):
        if not flags & need:
            raise att.ATT_Error(denied)
        if flags & (encrypted_flag | authenticated_flag) and not connection.encryption:
            # NimBLE: "insufficient encryption" to a peer it holds a bond for (it should
            # just encrypt), "insufficient authentication" to a stranger (it should pair).
            if self.port.security.is_bonded(connection.peer_address):
                raise att.ATT_Error(ATT_INSUFFICIENT_ENCRYPTION)
            raise att.ATT_Error(ATT_INSUFFICIENT_AUTHENTICATION)
        if flags & authenticated_flag and not connection.authenticated:
            raise att.ATT_Error(ATT_INSUFFICIENT_AUTHENTICATION)

    # ---- response ordering --------------------------------------------------
    # A client's read is answered only after the application's read-request irq has run.
    # Anything the application sends on that link meanwhile (a notification from its main
    # loop, say) must leave after the response, as on a board where the stack answers inside
    # the irq (spec §5.4). So sends wait behind pending read responses.
    def _hold(self, connection):
        link = self.port.links.get(connection.handle)
        if link is not None:
            link.responses_pending += 1
        return link

    def _release(self, link):
        if link is None:
            return
        link.responses_pending -= 1
        if not link.responses_pending and link.deferred:
            # Runs after the current step, i.e. after Bumble has sent the response.
            asyncio.get_running_loop().call_soon(self._flush, link)

    def _flush(self, link):
        while link.deferred and not link.responses_pending:
            link.deferred.pop(0)()

    def gate(self, link, send):
        if link.responses_pending or link.deferred:
            link.deferred.append(send)
        else:
            send()

    async def _remote_read(self, connection, attribute):
        flags = attribute.mp_flags
        self._check(connection, flags, FLAG_READ, FLAG_READ_ENCRYPTED, FLAG_READ_AUTHENTICATED,
                    ATT_READ_NOT_PERMITTED)
        link = self._hold(connection)
        try:
            return await self._read_through_application(connection, attribute)
        finally:
            self._release(link)

    async def _read_through_application(self, connection, attribute):
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def done(status, value):
            loop.call_soon_threadsafe(_settle, answer, (status, value))

        self.port.sink.on_gatts_read_request(connection.handle, attribute.handle, done)
        try:
            status, value = await asyncio.wait_for(answer, HANDLER_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("read of handle %d: the application did not answer in time", attribute.handle)
            raise att.ATT_Error(ATT_UNLIKELY_ERROR) from None
        if status:
            raise att.ATT_Error(status & 0xFF)
        return value

    async def _remote_write(self, connection, attribute, value):
        flags = attribute.mp_flags
        self._check(connection, flags, FLAG_WRITE | FLAG_WRITE_NO_RESPONSE, FLAG_WRITE_ENCRYPTED,
                    FLAG_WRITE_AUTHENTICATED, ATT_WRITE_NOT_PERMITTED)
        if not self.port.sink.length_ok(attribute.handle, len(value)):
            raise att.ATT_Error(ATT_INVALID_ATTRIBUTE_LENGTH)
        # Stored and handed to the application's irq through the same main-thread queue as
        # every other access, so the answer can go out now: a later read or anything the
        # handler sends is queued behind this write, and sends come after this response
        # (spec §5.4 rules 4-6) without making the client wait for the handler.
        self.port.sink.on_gatts_write(connection.handle, attribute.handle, bytes(value))

    # ---- notifications and indications -----------------------------------
    def notify(self, link, value_handle, data):
        if not link.closed:
            self.gate(link, lambda: self._send_notification(link, value_handle, data))

    def _send_notification(self, link, value_handle, data):
        if link.closed:
            return
        connection = link.connection
        payload = bytes(data[: connection.att_mtu - 3])
        pdu = att.ATT_Handle_Value_Notification(attribute_handle=value_handle, attribute_value=payload)
        self.device.gatt_server.send_gatt_pdu(connection, bytes(pdu))

    async def indicate(self, link, value_handle, data):
        status = 0
        try:
            attribute = self.values[value_handle][0]
            server = self.device.gatt_server
            await asyncio.wait_for(
                server.indicate_subscriber(link.connection, attribute, bytes(data), force=True),
                INDICATION_TIMEOUT,
            )
        except asyncio.TimeoutError:
            status = STATUS_ETIMEOUT
        except Exception as exc:  # any failure is reported through the irq
            log.debug("indication failed: %r", exc)
            status = STATUS_ENOTCONN
        finally:
            link.indications -= 1
        if link.closed:
            status = status or STATUS_ENOTCONN
            return  # the disconnect event is the last one for this connection
        self.port.sink.on_gatts_indicate_done(link.handle, value_handle, status)

    def send_update(self, value_handle, data):
        """gatts_write(send_update=True): notify or indicate each subscribed client."""
        for link in list(self.port.links.values()):
            cccd = self.get_cccd(link, value_handle)
            if cccd & 1:
                self.notify(link, value_handle, data)
            elif cccd & 2:
                link.indications += 1
                self.start_indication(link, value_handle, data)

    def start_indication(self, link, value_handle, data):
        self.gate(link, lambda: asyncio.ensure_future(self.indicate(link, value_handle, data)))

    def get_cccd(self, link, value_handle):
        return bumble_compat.cccd_value(self.device.gatt_server, link.connection, value_handle)

    def on_link_closed(self, link, notify):
        pass  # Bumble forgets the CCCDs of a closed connection; nothing is persisted (spec §3.10)


def _settle(future, value):
    if not future.done():
        future.set_result(value)
