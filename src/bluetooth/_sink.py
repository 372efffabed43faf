"""What the port sees of the binding (bluetooth._port.EventSink): typed events in, irq tuples out.

Only here are MicroPython's irq codes chosen and its event tuples built, so a port knows
nothing of either. Each method is one call into the event queue: this is the hot path of
every notification and write.
"""

from . import _args
from ._events import int_result
from ._port import (
    IRQ_CENTRAL_CONNECT, IRQ_CENTRAL_DISCONNECT, IRQ_CONNECTION_UPDATE, IRQ_ENCRYPTION_UPDATE,
    IRQ_GATTC_CHARACTERISTIC_DONE, IRQ_GATTC_CHARACTERISTIC_RESULT, IRQ_GATTC_DESCRIPTOR_DONE,
    IRQ_GATTC_DESCRIPTOR_RESULT, IRQ_GATTC_INDICATE, IRQ_GATTC_NOTIFY, IRQ_GATTC_READ_DONE, IRQ_GATTC_READ_RESULT,
    IRQ_GATTC_SERVICE_DONE, IRQ_GATTC_SERVICE_RESULT, IRQ_GATTC_WRITE_DONE, IRQ_GATTS_INDICATE_DONE,
    IRQ_GATTS_READ_REQUEST, IRQ_GATTS_WRITE, IRQ_GET_SECRET, IRQ_L2CAP_ACCEPT, IRQ_L2CAP_CONNECT,
    IRQ_L2CAP_DISCONNECT, IRQ_L2CAP_RECV, IRQ_L2CAP_SEND_READY, IRQ_MTU_EXCHANGED, IRQ_PASSKEY_ACTION,
    IRQ_PERIPHERAL_CONNECT, IRQ_PERIPHERAL_DISCONNECT, IRQ_SCAN_DONE, IRQ_SCAN_RESULT, IRQ_SET_SECRET,
)
from ._uuid import UUID


class Sink:
    """One radio's events, queued for its irq handler in the order the port reports them."""

    def __init__(self, events, db):
        self._post = events.post  # post(event, data, before=None, finish=None)
        self._db = db
        self._uuid = UUID(0)  # the one UUID object every discovery irq is handed

    def _irq_uuid(self, le):
        """MicroPython gives every discovery result the same UUID object, overwritten just
        before the next handler call: code that keeps it without copying sees the last
        UUID discovered, on a board and here. Returns (that object, the overwrite)."""
        shared = self._uuid

        def overwrite():
            shared._le = bytes(le)

        return shared, overwrite

    # ---- GAP ------------------------------------------------------------
    def on_central_connect(self, conn_handle, addr_type, addr):
        self._post(IRQ_CENTRAL_CONNECT, (conn_handle, addr_type, addr))

    def on_central_disconnect(self, conn_handle, addr_type, addr):
        self._post(IRQ_CENTRAL_DISCONNECT, (conn_handle, addr_type, addr))

    def on_peripheral_connect(self, conn_handle, addr_type, addr):
        self._post(IRQ_PERIPHERAL_CONNECT, (conn_handle, addr_type, addr))

    def on_peripheral_disconnect(self, conn_handle, addr_type, addr):
        self._post(IRQ_PERIPHERAL_DISCONNECT, (conn_handle, addr_type, addr))

    def on_scan_result(self, addr_type, addr, adv_type, rssi, adv_data):
        self._post(IRQ_SCAN_RESULT, (addr_type, addr, adv_type, rssi, adv_data))

    def on_scan_done(self):
        self._post(IRQ_SCAN_DONE, ())

    def on_connection_update(self, conn_handle, interval, latency, timeout, status):
        self._post(IRQ_CONNECTION_UPDATE, (conn_handle, interval, latency, timeout, status))

    def on_mtu_exchanged(self, conn_handle, mtu):
        self._post(IRQ_MTU_EXCHANGED, (conn_handle, mtu))

    # ---- GATT server ----------------------------------------------------
    def on_gatts_write(self, conn_handle, value_handle, data, delivered=None):
        db = self._db

        def store():
            db.remote_write(value_handle, data)

        self._post(IRQ_GATTS_WRITE, (conn_handle, value_handle), store,
                   (lambda _result: delivered()) if delivered is not None else None)

    def on_gatts_read_request(self, conn_handle, value_handle, answer):
        db = self._db

        def finish(result):
            status = int_result(result)
            answer(status, b"" if status else (db.peek(value_handle) or b""))

        self._post(IRQ_GATTS_READ_REQUEST, (conn_handle, value_handle), None, finish)

    def on_gatts_indicate_done(self, conn_handle, value_handle, status):
        self._post(IRQ_GATTS_INDICATE_DONE, (conn_handle, value_handle, status))

    def stored_value(self, value_handle):
        return self._db.peek(value_handle) or b""

    def length_ok(self, value_handle, size):
        return self._db.length_ok(value_handle, size)

    # ---- GATT client ----------------------------------------------------
    def on_gattc_service_result(self, conn_handle, start_handle, end_handle, uuid):
        u, overwrite = self._irq_uuid(uuid)
        self._post(IRQ_GATTC_SERVICE_RESULT, (conn_handle, start_handle, end_handle, u), overwrite)

    def on_gattc_service_done(self, conn_handle, status):
        self._post(IRQ_GATTC_SERVICE_DONE, (conn_handle, status))

    def on_gattc_characteristic_result(self, conn_handle, end_handle, value_handle, properties, uuid):
        u, overwrite = self._irq_uuid(uuid)
        self._post(IRQ_GATTC_CHARACTERISTIC_RESULT, (conn_handle, end_handle, value_handle, properties, u), overwrite)

    def on_gattc_characteristic_done(self, conn_handle, status):
        self._post(IRQ_GATTC_CHARACTERISTIC_DONE, (conn_handle, status))

    def on_gattc_descriptor_result(self, conn_handle, handle, uuid):
        u, overwrite = self._irq_uuid(uuid)
        self._post(IRQ_GATTC_DESCRIPTOR_RESULT, (conn_handle, handle, u), overwrite)

    def on_gattc_descriptor_done(self, conn_handle, status):
        self._post(IRQ_GATTC_DESCRIPTOR_DONE, (conn_handle, status))

    def on_gattc_read_result(self, conn_handle, value_handle, data):
        self._post(IRQ_GATTC_READ_RESULT, (conn_handle, value_handle, data))

    def on_gattc_read_done(self, conn_handle, value_handle, status):
        self._post(IRQ_GATTC_READ_DONE, (conn_handle, value_handle, status))

    def on_gattc_write_done(self, conn_handle, value_handle, status):
        self._post(IRQ_GATTC_WRITE_DONE, (conn_handle, value_handle, status))

    def on_gattc_notify(self, conn_handle, value_handle, data):
        self._post(IRQ_GATTC_NOTIFY, (conn_handle, value_handle, data))

    def on_gattc_indicate(self, conn_handle, value_handle, data):
        self._post(IRQ_GATTC_INDICATE, (conn_handle, value_handle, data))

    # ---- L2CAP ----------------------------------------------------------
    def on_l2cap_accept(self, conn_handle, cid, psm, our_mtu, peer_mtu, answer):
        self._post(IRQ_L2CAP_ACCEPT, (conn_handle, cid, psm, our_mtu, peer_mtu), None,
                   lambda result: answer(int_result(result)))

    def on_l2cap_connect(self, conn_handle, cid, psm, our_mtu, peer_mtu, delivered=None):
        self._post(IRQ_L2CAP_CONNECT, (conn_handle, cid, psm, our_mtu, peer_mtu), delivered)

    def on_l2cap_disconnect(self, conn_handle, cid, psm, status, delivered=None):
        self._post(IRQ_L2CAP_DISCONNECT, (conn_handle, cid, psm, status), delivered)

    def on_l2cap_recv(self, conn_handle, cid):
        self._post(IRQ_L2CAP_RECV, (conn_handle, cid))

    def on_l2cap_send_ready(self, conn_handle, cid, status):
        self._post(IRQ_L2CAP_SEND_READY, (conn_handle, cid, status))

    # ---- security -------------------------------------------------------
    def on_encryption_update(self, conn_handle, encrypted, authenticated, bonded, key_size):
        self._post(IRQ_ENCRYPTION_UPDATE, (conn_handle, encrypted, authenticated, bonded, key_size))

    def on_passkey_action(self, conn_handle, action, passkey):
        self._post(IRQ_PASSKEY_ACTION, (conn_handle, action, passkey))

    def on_get_secret(self, sec_type, index, key, answer):
        self._post(IRQ_GET_SECRET, (sec_type, index, key), None, lambda result: answer(secret_bytes(result)))

    def on_set_secret(self, sec_type, key, value, answer):
        self._post(IRQ_SET_SECRET, (sec_type, key, value), None, lambda result: answer(bool(result)))


def secret_bytes(result):
    """A _IRQ_GET_SECRET answer: any buffer (str too, as in MicroPython), else None."""
    if result is None:
        return None
    try:
        return _args.to_bytes(result, "secret")
    except TypeError:
        return None
