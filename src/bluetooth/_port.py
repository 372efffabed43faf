"""The contract between the `bluetooth` binding and a port (the role of modbluetooth.h).

The binding (`_ble.py`) checks and converts every argument, owns the irq queue and the
local attribute value store, builds MicroPython's irq tuples and turns `PortError(errno)`
into `OSError` in one place. A port trusts its inputs. Our port is
`bleboard.port.stack.BumblePort` (Bumble over HCI); on a MicroPython board the firmware's
C module plays both roles.

This module is all a port imports from `bluetooth`: the error type and errno values a port
raises, the status codes it reports in *_done callbacks, and the two halves of the
interface: `Port` (called by the binding) and `EventSink` (called by the port on events).
The irq codes are here too, as modbluetooth.h has them, but only the binding uses them:
a port calls the typed `EventSink` methods and never builds an irq tuple.

Values that cross the boundary: handles are ints; addresses are 6-byte `bytes` in display
(big-endian) order with addr_type 0 (public) or 1 (random); UUIDs are their little-endian
bytes (2, 4 or 16 of them), which is what `bytes(bluetooth.UUID(...))` gives.
"""

from typing import Callable, Optional, Protocol

# ---- errors: a port raises PortError(errno); the binding raises OSError(errno) ----------
EPERM = 1
ENOENT = 2
EIO = 5
E2BIG = 7
EAGAIN = 11
ENOMEM = 12
EBUSY = 16
ENODEV = 19
EINVAL = 22
EOPNOTSUPP = 95
ENOTCONN = 107
ETIMEDOUT = 110
EALREADY = 114


class PortError(Exception):
    """Raised by a port with a MicroPython errno (and why); the binding re-raises it as OSError."""

    def __init__(self, num, detail=None):
        super().__init__(num, detail)
        self.errno = num
        self.detail = detail


# ---- status values of *_done callbacks (NimBLE's encodings, spec §2.2/§3.11) ------------
STATUS_OK = 0
STATUS_ENOMEM = 6  # BLE_HS_ENOMEM
STATUS_ENOTCONN = 7  # BLE_HS_ENOTCONN: connection lost during a procedure
STATUS_ENOTSUP = 8  # BLE_HS_ENOTSUP
STATUS_ETIMEOUT = 13  # BLE_HS_ETIMEOUT
STATUS_EUNKNOWN = 17  # BLE_HS_EUNKNOWN
STATUS_ATT_BASE = 0x100  # + ATT error code
STATUS_HCI_BASE = 0x200  # + HCI error code

# ---- characteristic and descriptor flags (register_services; the first five are public) ---
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
FLAG_READ_ENCRYPTED = 0x0200
FLAG_READ_AUTHENTICATED = 0x0400
FLAG_READ_AUTHORIZED = 0x0800
FLAG_WRITE_ENCRYPTED = 0x1000
FLAG_WRITE_AUTHENTICATED = 0x2000
FLAG_WRITE_AUTHORIZED = 0x4000

# ---- secret types of on_get_secret/on_set_secret, and passkey actions -------------------
SEC_PEER = 2  # a peer's bond record (NimBLE's peer security record)
SEC_IRK = 10  # our identity resolving key, asked for by the binding at start-up
PASSKEY_ACTION_INPUT = 2
PASSKEY_ACTION_DISPLAY = 3
PASSKEY_ACTION_NUMERIC_COMPARISON = 4

# ---- irq codes (the binding's choice; listed for readers of the contract) ---------------
IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_GATTS_WRITE = 3
IRQ_GATTS_READ_REQUEST = 4
IRQ_SCAN_RESULT = 5
IRQ_SCAN_DONE = 6
IRQ_PERIPHERAL_CONNECT = 7
IRQ_PERIPHERAL_DISCONNECT = 8
IRQ_GATTC_SERVICE_RESULT = 9
IRQ_GATTC_SERVICE_DONE = 10
IRQ_GATTC_CHARACTERISTIC_RESULT = 11
IRQ_GATTC_CHARACTERISTIC_DONE = 12
IRQ_GATTC_DESCRIPTOR_RESULT = 13
IRQ_GATTC_DESCRIPTOR_DONE = 14
IRQ_GATTC_READ_RESULT = 15
IRQ_GATTC_READ_DONE = 16
IRQ_GATTC_WRITE_DONE = 17
IRQ_GATTC_NOTIFY = 18
IRQ_GATTC_INDICATE = 19
IRQ_GATTS_INDICATE_DONE = 20
IRQ_MTU_EXCHANGED = 21
IRQ_L2CAP_ACCEPT = 22
IRQ_L2CAP_CONNECT = 23
IRQ_L2CAP_DISCONNECT = 24
IRQ_L2CAP_RECV = 25
IRQ_L2CAP_SEND_READY = 26
IRQ_CONNECTION_UPDATE = 27
IRQ_ENCRYPTION_UPDATE = 28
IRQ_GET_SECRET = 29
IRQ_SET_SECRET = 30
IRQ_PASSKEY_ACTION = 31

Done = Optional[Callable[[], None]]


class EventSink(Protocol):
    """Called by the port on events, from any thread; each call queues one irq in order.

    `delivered` callbacks run on the application's thread just before the handler sees
    the event (so state the event announces appears no earlier); `answer` callbacks get
    the handler's reply, already converted, or the default when no handler answered.
    """

    # ---- GAP ------------------------------------------------------------
    def on_central_connect(self, conn_handle: int, addr_type: int, addr: bytes) -> None:
        """A central connected to us (irq 1)."""

    def on_central_disconnect(self, conn_handle: int, addr_type: int, addr: bytes) -> None:
        """A central's link ended (irq 2)."""

    def on_peripheral_connect(self, conn_handle: int, addr_type: int, addr: bytes) -> None:
        """gap_connect succeeded (irq 7)."""

    def on_peripheral_disconnect(self, conn_handle: int, addr_type: int, addr: bytes) -> None:
        """A peripheral's link ended, or gap_connect failed: (0xFFFF, 0xFF, 6 zero bytes) (irq 8)."""

    def on_scan_result(self, addr_type: int, addr: bytes, adv_type: int, rssi: int, adv_data: bytes) -> None:
        """One advertising report, extended fragments already joined (irq 5)."""

    def on_scan_done(self) -> None:
        """A scan ended: its duration passed, gap_scan(None) or active(False) (irq 6)."""

    def on_connection_update(self, conn_handle: int, interval: int, latency: int, timeout: int, status: int) -> None:
        """New parameters in controller units (1.25 ms, 10 ms); status 1 when refused (irq 27)."""

    def on_mtu_exchanged(self, conn_handle: int, mtu: int) -> None:
        """The ATT MTU of a link changed (irq 21)."""

    # ---- GATT server ----------------------------------------------------
    def on_gatts_write(self, conn_handle: int, value_handle: int, data: bytes, delivered: Done = None) -> None:
        """A client wrote: the binding stores `data`, then raises irq 3."""

    def on_gatts_read_request(self, conn_handle: int, value_handle: int,
                              answer: Callable[[int, bytes], None]) -> None:
        """A client reads: irq 4, then `answer(att_status, stored_value)` (b"" when refused)."""

    def on_gatts_indicate_done(self, conn_handle: int, value_handle: int, status: int) -> None:
        """The client confirmed an indication, or it failed with a STATUS_ value (irq 20)."""

    def stored_value(self, value_handle: int) -> bytes:
        """Current stored value (for notify/indicate without data, and send_update)."""

    def length_ok(self, value_handle: int, size: int) -> bool:
        """Extension gatts_set_length: False when a remote write of `size` bytes is refused."""

    # ---- GATT client ----------------------------------------------------
    def on_gattc_service_result(self, conn_handle: int, start_handle: int, end_handle: int, uuid: bytes) -> None:
        """irq 9."""

    def on_gattc_service_done(self, conn_handle: int, status: int) -> None:
        """irq 10."""

    def on_gattc_characteristic_result(self, conn_handle: int, end_handle: int, value_handle: int,
                                       properties: int, uuid: bytes) -> None:
        """irq 11 (end_handle: the last handle of the characteristic, MicroPython 1.23+)."""

    def on_gattc_characteristic_done(self, conn_handle: int, status: int) -> None:
        """irq 12."""

    def on_gattc_descriptor_result(self, conn_handle: int, handle: int, uuid: bytes) -> None:
        """irq 13."""

    def on_gattc_descriptor_done(self, conn_handle: int, status: int) -> None:
        """irq 14."""

    def on_gattc_read_result(self, conn_handle: int, value_handle: int, data: bytes) -> None:
        """irq 15."""

    def on_gattc_read_done(self, conn_handle: int, value_handle: int, status: int) -> None:
        """irq 16."""

    def on_gattc_write_done(self, conn_handle: int, value_handle: int, status: int) -> None:
        """irq 17."""

    def on_gattc_notify(self, conn_handle: int, value_handle: int, data: bytes) -> None:
        """irq 18."""

    def on_gattc_indicate(self, conn_handle: int, value_handle: int, data: bytes) -> None:
        """irq 19 (the port has confirmed it already)."""

    # ---- L2CAP ----------------------------------------------------------
    def on_l2cap_accept(self, conn_handle: int, cid: int, psm: int, our_mtu: int, peer_mtu: int,
                        answer: Callable[[int], None]) -> None:
        """An incoming channel: irq 22, then `answer(status)` (0 accepts)."""

    def on_l2cap_connect(self, conn_handle: int, cid: int, psm: int, our_mtu: int, peer_mtu: int,
                         delivered: Done = None) -> None:
        """A channel opened (irq 23)."""

    def on_l2cap_disconnect(self, conn_handle: int, cid: int, psm: int, status: int,
                            delivered: Done = None) -> None:
        """A channel closed or a connect failed with a STATUS_ value (irq 24)."""

    def on_l2cap_recv(self, conn_handle: int, cid: int) -> None:
        """An SDU waits for l2cap_recvinto (irq 25)."""

    def on_l2cap_send_ready(self, conn_handle: int, cid: int, status: int) -> None:
        """A stalled send has left: the channel takes more (irq 26)."""

    # ---- security -------------------------------------------------------
    def on_encryption_update(self, conn_handle: int, encrypted: int, authenticated: int, bonded: int,
                             key_size: int) -> None:
        """irq 28, raised only when the state changed."""

    def on_passkey_action(self, conn_handle: int, action: int, passkey: int) -> None:
        """irq 31; the application answers with gap_passkey (Port.security.passkey)."""

    def on_get_secret(self, sec_type: int, index: int, key: Optional[bytes],
                      answer: Callable[[Optional[bytes]], None]) -> None:
        """irq 29: the application's stored secret as bytes, or None."""

    def on_set_secret(self, sec_type: int, key: bytes, value: Optional[bytes],
                      answer: Callable[[bool], None]) -> None:
        """irq 30 (value None deletes): whether the application stored it."""


class SecurityPort(Protocol):
    """Pairing part of a port (absent on builds without pairing)."""

    def pair(self, conn_handle: int) -> None:
        """gap_pair: start pairing (or encryption with a stored key); ENOTCONN, EALREADY."""

    def passkey(self, conn_handle: int, action: int, passkey: int) -> None:
        """gap_passkey: answer a pending on_passkey_action; EINVAL when none is pending."""

    def set_irk(self, irk: bytes) -> None:
        """Our 16-byte identity resolving key, from the application's store at start-up."""


class L2capPort(Protocol):
    """L2CAP connection-oriented channels part of a port (absent on builds without them)."""

    @property
    def max_channels(self) -> int:
        """How many channels may be open at once (MicroPython: 1)."""

    def listen(self, psm: int, mtu: int) -> None: ...

    def connect(self, conn_handle: int, psm: int, mtu: int) -> None: ...

    def disconnect(self, conn_handle: int, cid: int) -> None: ...

    def send(self, conn_handle: int, cid: int, data: bytes) -> bool:
        """False when the SDU waits for credits (on_l2cap_send_ready follows)."""

    def recvinto(self, conn_handle: int, cid: int, buf: Optional[memoryview]) -> int:
        """Copy received bytes into buf (None: how many are waiting)."""

    def set_max_channels(self, count: int) -> None: ...


class Port(Protocol):
    """Called by the binding, on the application's thread, with checked arguments."""

    @property
    def security(self) -> SecurityPort:
        """The pairing part; absent on ports built without it."""

    @property
    def l2cap(self) -> L2capPort:
        """The L2CAP part; absent on ports built without it."""

    # ---- lifecycle ------------------------------------------------------
    def start(self, sink: EventSink, settings: dict) -> None:
        """active(True): bring the stack up; PortError(ETIMEDOUT/ENODEV) when the radio does not answer."""

    def stop(self) -> None:
        """active(False): stop advertising/scanning (on_scan_done), drop links silently."""

    def close(self) -> None:
        """Interpreter exit: release the radio without raising events."""

    def is_active(self) -> bool: ...

    # ---- GAP ------------------------------------------------------------
    def own_address(self) -> tuple:
        """(addr_type, addr) for config('mac'); EINVAL while it is a resolvable private address."""

    def set_addr_mode(self, mode: int) -> None: ...

    def set_gap_name(self, name: bytes) -> None: ...

    def set_preferred_mtu(self, mtu: int) -> None: ...

    def set_security(self, settings: dict) -> None:
        """config(bond=, mitm=, io=, le_secure=) while active: the settings for the next pairing."""

    def tx_power(self) -> int:
        """Extension config('tx_power'): the advertising transmit power in dBm."""

    def advertise(self, interval_us: Optional[int], adv_data: Optional[bytes], resp_data: Optional[bytes],
                  connectable: Optional[bool], options: Optional[dict]) -> None:
        """Start (or restart) advertising; interval_us None stops it."""

    def is_advertising(self) -> bool: ...

    def scan(self, duration_ms: Optional[int], interval_us: int, window_us: int, active: bool) -> None:
        """duration_ms None stops a running scan (on_scan_done during the call); 0 scans forever."""

    def connect(self, addr_type: int, addr: bytes, scan_duration_ms: int, min_interval_us: Optional[int],
                max_interval_us: Optional[int]) -> None: ...

    def cancel_connect(self) -> None: ...

    def disconnect(self, conn_handle: int) -> bool: ...

    def connection_update(self, conn_handle: int, min_us: int, max_us: int, latency: int, timeout_ms: int) -> None: ...

    def connection_info(self, conn_handle: int) -> dict: ...

    # ---- GATT server ----------------------------------------------------
    def register_services(self, services: list) -> tuple:
        """[(uuid, [(uuid, flags, [(uuid, flags), ...]), ...], secondary), ...] -> handles as MicroPython returns."""

    def notify(self, conn_handle: int, value_handle: int, data: bytes) -> None: ...

    def indicate(self, conn_handle: int, value_handle: int, data: bytes) -> None: ...

    def send_update(self, value_handle: int, data: bytes) -> None: ...

    def get_cccd(self, conn_handle: int, value_handle: int) -> int: ...

    # ---- GATT client ----------------------------------------------------
    def discover_services(self, conn_handle: int, uuid: Optional[bytes]) -> None: ...

    def discover_characteristics(self, conn_handle: int, start: int, end: int, uuid: Optional[bytes]) -> None: ...

    def discover_descriptors(self, conn_handle: int, start: int, end: int) -> None: ...

    def read(self, conn_handle: int, value_handle: int) -> None: ...

    def write(self, conn_handle: int, value_handle: int, data: bytes, mode: int) -> None: ...

    def exchange_mtu(self, conn_handle: int) -> None: ...


PortFactory = Callable[[dict], Port]
"""What BLE.new(port_factory=...) takes: options dict -> a Port, made on first active(True)."""
