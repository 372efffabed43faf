"""The contract between the `bluetooth` binding and a port (the role of modbluetooth.h).

The binding (`_ble.py`) checks and converts every argument, owns the irq queue and the
local attribute value store, and turns `PortError(errno)` into `OSError` in one place.
A port trusts its inputs. Our port is `bleboard.port.stack.BumblePort` (Bumble over HCI);
on a MicroPython board the firmware's C module plays both roles.

Handles and addresses are plain ints and 6-byte `bytes` in display (big-endian) order.
"""

from typing import Protocol


class EventSink(Protocol):
    """Called by the port on events (from the radio thread)."""

    def post(self, event, data, before=None, finish=None) -> None:
        """Queue irq `event` with `data`; see bluetooth._events.EventQueue.post."""

    def remote_write(self, conn_handle, value_handle, data, done=None) -> None:
        """A client wrote a value/descriptor; `done()` once the handler has run."""

    def remote_read(self, conn_handle, value_handle, done) -> None:
        """A client reads: `done(att_status, value)` after the read-request irq."""

    def stored_value(self, value_handle) -> bytes:
        """Current stored value (for notify/indicate without data, and send_update)."""

    def length_ok(self, value_handle, size) -> bool:
        """Extension gatts_set_length: False when a remote write of `size` bytes is refused."""


class Port(Protocol):
    # ---- called by the binding: lifecycle -------------------------------
    def start(self, sink: EventSink, settings: dict) -> None:
        """active(True): bring the stack up; PortError(ETIMEDOUT) when the radio does not answer."""

    def stop(self) -> None:
        """active(False): stop advertising/scanning (SCAN_DONE raised), drop links silently."""

    def is_active(self) -> bool: ...

    # ---- GAP ------------------------------------------------------------
    def own_address(self) -> tuple: ...

    def set_addr_mode(self, mode: int) -> None: ...

    def set_gap_name(self, name: bytes) -> None: ...

    def set_preferred_mtu(self, mtu: int) -> None: ...

    def advertise(self, interval_us, adv_data, resp_data, connectable, options) -> None:
        """Start (or restart) advertising; interval_us None stops it."""

    def is_advertising(self) -> bool: ...

    def scan(self, duration_ms, interval_us, window_us, active) -> None:
        """duration_ms None stops a running scan (SCAN_DONE raised during the call)."""

    def connect(self, addr_type, addr, scan_duration_ms, min_interval_us, max_interval_us) -> None: ...

    def cancel_connect(self) -> None: ...

    def disconnect(self, conn_handle) -> bool: ...

    def connection_update(self, conn_handle, min_us, max_us, latency, timeout_ms) -> None: ...

    def connection_info(self, conn_handle) -> dict: ...

    # ---- GATT server ----------------------------------------------------
    def register_services(self, services) -> tuple:
        """services: [(UUID, [(UUID, flags, [(UUID, flags), ...]), ...]), ...] -> handles as MP returns."""

    def notify(self, conn_handle, value_handle, data) -> None: ...

    def indicate(self, conn_handle, value_handle, data) -> None: ...

    def send_update(self, value_handle, data) -> None: ...

    def get_cccd(self, conn_handle, value_handle) -> int: ...

    # ---- GATT client ----------------------------------------------------
    def discover_services(self, conn_handle, uuid) -> None: ...

    def discover_characteristics(self, conn_handle, start, end, uuid) -> None: ...

    def discover_descriptors(self, conn_handle, start, end) -> None: ...

    def read(self, conn_handle, value_handle) -> None: ...

    def write(self, conn_handle, value_handle, data, mode) -> None: ...

    def exchange_mtu(self, conn_handle) -> None: ...

    # ---- optional parts, as attributes (absent on ports without them) ---
    # port.security: pair(link), passkey(link, action, value), set_irk(irk)   (bleboard/port/security.py)
    # port.l2cap: listen, connect, disconnect, send, recvinto, set_max_channels (bleboard/port/l2cap.py)
    # port.link(conn_handle) -> the connection object those take; PortError(ENOTCONN) if unknown
