"""GATT client for the port: MicroPython's procedures over raw ATT requests.

Each connection runs its procedures one at a time in issue order (spec §3.11, §5.4), so
events come out exactly as a test expects. Every procedure ends with exactly one DONE
event: success, an ATT error (0x100 + code, NimBLE's encoding) or, when the link drops,
status 7 (BLE_HS_ENOTCONN) just before the disconnect event.
"""

import asyncio
import collections
import logging
import struct

from bumble import att
from bumble.core import UUID as BumbleUUID
from bumble.gatt import (
    GATT_CHARACTERISTIC_ATTRIBUTE_TYPE,
    GATT_PRIMARY_SERVICE_ATTRIBUTE_TYPE,
)

from . import bumble_compat

from bluetooth._port import EBUSY, ENOMEM, STATUS_ENOTCONN, STATUS_ETIMEOUT, PortError

log = logging.getLogger("bleboard.port")

_DISCOVERY_DONE = {
    "services": "on_gattc_service_done",
    "characteristics": "on_gattc_characteristic_done",
    "descriptors": "on_gattc_descriptor_done",
}
MAX_QUEUED = 64  # procedures and commands waiting per connection before ENOMEM


def _att_status(response):
    if response.op_code == att.Opcode.ATT_ERROR_RESPONSE:
        return 0x100 + int(response.error_code)
    return 0


class _Procedure:
    """One queued client operation and the single DONE event that ends it."""

    def __init__(self, kind, args, done, done_prefix):
        self.kind = kind
        self.args = args
        self.done = done  # the sink's *_done callback, or None (MTU exchange, write command)
        self.done_prefix = done_prefix
        self.finished = False


class GattClient:
    def __init__(self, port):
        self.port = port

    def attach(self, link):
        link.queue = collections.deque()
        link.worker = None
        link.response_arrived = False
        link.held_values = []
        bumble_compat.tap_gatt_client(
            link.connection.gatt_client,
            lambda pdu: self._on_value(link, pdu, False),
            lambda pdu: self._on_value(link, pdu, True),
            lambda: setattr(link, "response_arrived", True),
        )

    # A response wakes our procedure a few loop steps later, but a notification that arrived
    # after it on the link is handled at once. To keep the link's order in the events (the
    # DONE of a write before a notification sent after it, spec §5.4 rule 5), values that
    # arrive behind a not-yet-reported response wait until the procedure has reported.
    def _on_value(self, link, pdu, indication):
        if link.closed:
            return
        sink = self.port.sink
        report = sink.on_gattc_indicate if indication else sink.on_gattc_notify
        if link.response_arrived or link.held_values:
            link.held_values.append((report, link.handle, pdu.attribute_handle, bytes(pdu.attribute_value)))
        else:
            report(link.handle, pdu.attribute_handle, bytes(pdu.attribute_value))
        if indication:
            link.connection.gatt_client.send_confirmation(att.ATT_Handle_Value_Confirmation())

    # ---- queueing (called from the API thread) -----------------------------
    def start(self, link, kind, *args):
        h = link.handle
        sink = self.port.sink
        if kind in ("read", "write"):
            done = sink.on_gattc_read_done if kind == "read" else sink.on_gattc_write_done
            prefix = (h, args[0])
        elif kind == "mtu":
            done, prefix = None, ()
        else:
            done, prefix = getattr(sink, _DISCOVERY_DONE[kind]), (h,)
        if kind == "characteristics" and any(
            p.kind == "characteristics" and not p.finished for lk in self.port.links.values() for p in lk.queue
        ):
            raise PortError(EBUSY, "a characteristic discovery is already running")
        if len(link.queue) >= MAX_QUEUED:
            raise PortError(ENOMEM, "too many GATT operations queued")
        proc = _Procedure(kind, args, done, prefix)
        link.queue.append(proc)
        self.port.rl.call_soon(self._kick, link)

    def write_command(self, link, value_handle, data):
        if len(link.queue) >= MAX_QUEUED:
            raise PortError(ENOMEM, "transmit queue full")
        proc = _Procedure("command", (value_handle, data), None, ())
        link.queue.append(proc)
        self.port.rl.call_soon(self._kick, link)

    def _kick(self, link):
        if link.worker is None and not link.closed:
            link.worker = asyncio.ensure_future(self._work(link))

    async def _work(self, link):
        try:
            while link.queue and not link.closed:
                proc = link.queue[0]
                try:
                    status = await getattr(self, "_do_" + proc.kind)(link, *proc.args)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a failed request ends the procedure
                    log.debug("GATT %s failed: %r", proc.kind, exc)
                    status = STATUS_ENOTCONN if link.closed else STATUS_ETIMEOUT
                if link.closed:
                    return
                self._finish(link, proc, status)
                self._reported(link)
                if link.queue and link.queue[0] is proc:
                    link.queue.popleft()
        finally:
            link.worker = None

    def _finish(self, link, proc, status):
        if proc.finished:
            return
        proc.finished = True
        if proc.done is not None:
            proc.done(*proc.done_prefix, status)

    def fail_pending(self, link, notify):
        """The link dropped: end every pending procedure (before the disconnect event)."""
        queue, link.queue = list(link.queue), collections.deque()
        if link.worker is not None:
            link.worker.cancel()
            link.worker = None
        for proc in queue:
            if notify:
                self._finish(link, proc, STATUS_ENOTCONN)
            proc.finished = True

    def _reported(self, link):
        """The last response's events are out: release values that arrived after it."""
        link.response_arrived = False
        held, link.held_values = link.held_values, []
        for report, *data in held:
            if not link.closed:
                report(*data)

    async def _request(self, link, pdu):
        self._reported(link)
        return await link.connection.gatt_client.send_request(pdu)

    # ---- procedures -------------------------------------------------------
    async def _do_services(self, link, uuid):
        h = link.handle
        start = 1
        while start <= 0xFFFF:
            if uuid is None:
                response = await self._request(link, att.ATT_Read_By_Group_Type_Request(
                    starting_handle=start, ending_handle=0xFFFF,
                    attribute_group_type=GATT_PRIMARY_SERVICE_ATTRIBUTE_TYPE))
            else:
                response = await self._request(link, att.ATT_Find_By_Type_Value_Request(
                    starting_handle=start, ending_handle=0xFFFF,
                    attribute_type=GATT_PRIMARY_SERVICE_ATTRIBUTE_TYPE,
                    attribute_value=BumbleUUID.from_bytes(bytes(uuid)).to_pdu_bytes()))
            status = _att_status(response)
            if status:
                return 0 if response.error_code == att.ATT_ATTRIBUTE_NOT_FOUND_ERROR else status
            if uuid is None:
                found = [(s, e, bytes(v)) for s, e, v in response.attributes]
            else:
                found = [(s, e, uuid) for s, e in response.handles_information]
            if not found:
                return 0
            for s, e, u in found:
                if link.closed:
                    break
                self.port.sink.on_gattc_service_result(h, s, e, u)
            last_end = found[-1][1]
            if last_end >= 0xFFFF:
                return 0
            start = last_end + 1
        return 0

    async def _do_characteristics(self, link, start, end, uuid):
        h = link.handle
        pending = None  # the previous declaration, reported once we know where it ends
        cursor = start
        status = 0
        while cursor <= end:
            response = await self._request(link, att.ATT_Read_By_Type_Request(
                starting_handle=cursor, ending_handle=end, attribute_type=GATT_CHARACTERISTIC_ATTRIBUTE_TYPE))
            status = _att_status(response)
            if status:
                if response.error_code == att.ATT_ATTRIBUTE_NOT_FOUND_ERROR:
                    status = 0
                break
            if not response.attributes:
                break
            for decl_handle, value in response.attributes:
                props, value_handle = struct.unpack_from("<BH", value, 0)
                c_uuid = bytes(value[3:])
                if pending is not None:
                    self._report_char(link, pending, decl_handle - 1, uuid)
                pending = (value_handle, props, c_uuid)
                cursor = decl_handle + 1
            if response.attributes[-1][0] >= end:
                break
        if pending is not None:
            self._report_char(link, pending, end, uuid)
        del h
        return status

    def _report_char(self, link, found, end_handle, wanted):
        value_handle, props, c_uuid = found
        if wanted is not None and c_uuid != wanted:
            return
        if not link.closed:
            self.port.sink.on_gattc_characteristic_result(link.handle, end_handle, value_handle, props, c_uuid)

    async def _do_descriptors(self, link, start, end):
        cursor = start + 1
        while cursor <= end:
            response = await self._request(link, att.ATT_Find_Information_Request(
                starting_handle=cursor, ending_handle=end))
            status = _att_status(response)
            if status:
                return 0 if response.error_code == att.ATT_ATTRIBUTE_NOT_FOUND_ERROR else status
            if not response.information:
                return 0
            for handle, raw_uuid in response.information:
                if not link.closed:
                    self.port.sink.on_gattc_descriptor_result(link.handle, handle, bytes(raw_uuid))
            last = response.information[-1][0]
            if last >= end:
                return 0
            cursor = last + 1
        return 0

    async def _do_read(self, link, value_handle):
        response = await self._request(link, att.ATT_Read_Request(attribute_handle=value_handle))
        status = _att_status(response)
        if not status:
            if not link.closed:
                self.port.sink.on_gattc_read_result(link.handle, value_handle, bytes(response.attribute_value))
        return status

    async def _do_write(self, link, value_handle, data):
        payload = bytes(data[: link.connection.att_mtu - 3])
        response = await self._request(link, att.ATT_Write_Request(
            attribute_handle=value_handle, attribute_value=payload))
        return _att_status(response)

    async def _do_command(self, link, value_handle, data):
        payload = bytes(data[: link.connection.att_mtu - 3])
        link.connection.gatt_client.send_gatt_pdu(bytes(att.ATT_Write_Command(
            attribute_handle=value_handle, attribute_value=payload)))
        return 0

    async def _do_mtu(self, link, preferred):
        client = link.connection.gatt_client
        bumble_compat.allow_mtu_exchange_again(client)
        await client.request_mtu(preferred)
        return 0
