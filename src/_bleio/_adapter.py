"""`Adapter`: GAP for `_bleio` (advertising, scanning, connecting) and the single irq handler.

Every `bluetooth` event of one BLE object arrives in `Adapter._irq`, which updates the
adapter, its connections, its GATT server or the running scan, then wakes waiters.
"""

import sys

from . import _wait
from ._address import Address
from ._attribute import check_buffer, check_int, check_number
from ._connection import Connection
from ._errors import BluetoothError, needs_extension
from ._scan import ScanResults, check_prefixes

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_READ_REQUEST = 4
_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6
_IRQ_PERIPHERAL_CONNECT = 7
_IRQ_PERIPHERAL_DISCONNECT = 8
_IRQ_GATTC_NOTIFY = 18
_IRQ_GATTC_INDICATE = 19
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30
_IRQ_PASSKEY_ACTION = 31

_ADV_INTERVAL_MIN = 0.02
_ADV_INTERVAL_MAX = 10.24
_ADV_TIMEOUT_LIMITED_MAX = 180  # seconds: the longest limited (anonymous) advertising
_SCAN_INTERVAL_MIN = 0.0025
_SCAN_INTERVAL_MAX = 40.959375
_LEGACY_ADV_MAX = 31
_EXTENDED_ADV_MAX = 251

# The adapter `_bleio.adapter` names (set_adapter changes it); Service() registers with it.
current = [None]


class Adapter:
    """The BLE adapter: the built-in radio (`_bleio.adapter`) or an HCI co-processor on a UART."""

    def __init__(self, *, uart=None, rts=None, cts=None):
        self._hci = None
        if uart is not None or rts is not None or cts is not None:
            import bluetooth

            if not hasattr(bluetooth.BLE, "new"):
                raise NotImplementedError("the adapter is a singleton on this board: use _bleio.adapter")
            self._hci = _hci_spec(uart, rts, cts)
        elif not getattr(Adapter, "_making_singleton", False):
            raise NotImplementedError("Use _bleio.adapter; an Adapter needs uart=, rts= and cts= of an HCI co-processor")
        self._ble = None
        self._user_disabled = False
        self._name = None
        self._advertising = False
        self._adv_connectable = False
        self._scan = None
        self._conns = {}
        self._connecting = None
        self._bonds = None  # BondStore, opened at its first use (see _bonds.py)
        from ._gatts import Server

        self._server = Server(self)
        if self._hci is not None:
            self._start()

    @classmethod
    def _singleton(cls):
        cls._making_singleton = True
        try:
            return cls()
        finally:
            cls._making_singleton = False

    @classmethod
    def _with_ble(cls, ble):
        """An adapter over an existing BLE object (e.g. `bluetooth.BLE.new(radio=...)` in tests, benchmarks)."""
        self = cls._singleton()
        self._ble = ble
        self._ext = hasattr(type(ble), "new")
        ble.irq(self._irq)
        return self

    # ---- the radio ------------------------------------------------------------

    def _start(self):
        """Create and activate our BLE object (lazily for the built-in radio)."""
        if self._ble is None:
            import bluetooth

            if self._hci is not None:
                if not hasattr(bluetooth.BLE, "new"):
                    raise needs_extension("an HCI co-processor Adapter", "BLE.new(hci=)")
                ble = bluetooth.BLE.new(hci=self._hci)
            else:
                ble = bluetooth.BLE()
            self._ext = hasattr(bluetooth.BLE, "new")
            ble.irq(self._irq)
            self._ble = ble
        if not self._ble.active():
            self._ble.active(True)
            if self._name is None:
                self._name = "CIRCUITPY" + _hex(bytes((self.address.address_bytes[1], self.address.address_bytes[0])))
            self._ble.config(gap_name=self._name)
        return self._ble

    def _ready(self):
        if self._user_disabled:
            raise BluetoothError("Adapter not enabled")
        return self._start()

    @property
    def enabled(self):
        """State of the BLE adapter (operations start the radio when needed)."""
        return not self._user_disabled

    @enabled.setter
    def enabled(self, value):
        if value:
            self._user_disabled = False
            self._start()
        else:
            self._user_disabled = True
            if self._ble is not None and self._ble.active():
                self._ble.active(False)
            self._advertising = False
            if self._scan is not None:
                self._scan._finish()
            for conn in tuple(self._conns.values()):
                conn._gone()
            self._conns = {}
            self._server.reset()
            _wait.notify()

    @property
    def address(self):
        """MAC address of the adapter."""
        ble = self._ready()
        addr_type, addr = ble.config("mac")
        return Address._from_bluetooth(addr_type, addr)

    @property
    def name(self):
        """Name used in the GAP Device Name; "CIRCUITPY" + last four hex digits of the address by default."""
        if self._name is None:
            self._ready()
        return self._name

    @name.setter
    def name(self, value):
        if not isinstance(value, str):
            raise TypeError("name must be a str")
        if len(value.encode()) > 248:
            raise ValueError("name must be at most 248 bytes")
        self._name = value
        if self._ble is not None and self._ble.active():
            self._ble.config(gap_name=value)

    # ---- advertising ------------------------------------------------------------

    @property
    def advertising(self):
        """True while advertising (read-only)."""
        if self._ble is None or not self._ble.active():
            return False
        if self._ext:
            return bool(self._ble.config("advertising"))
        return self._advertising

    def start_advertising(
        self, data, *, scan_response=None, connectable=True, anonymous=False, timeout=0, interval=0.1, tx_power=0,
        directed_to=None,
    ):
        """Advertise `data` until stop_advertising(), a connection (if connectable) or `timeout` seconds."""
        data = check_buffer(data, "data")
        resp = b"" if scan_response is None else check_buffer(scan_response, "scan_response")
        interval = check_number(interval, "interval")
        if not _ADV_INTERVAL_MIN <= interval <= _ADV_INTERVAL_MAX:
            raise ValueError("interval must be in range 0.0200-10.2400")
        timeout = check_int(timeout, "timeout", 0, 0x7FFFFFFF)
        if isinstance(tx_power, bool) or not isinstance(tx_power, int):
            raise TypeError("tx_power must be an int")
        if directed_to is not None and not isinstance(directed_to, Address):
            raise TypeError("directed_to must be an Address or None")
        if len(data) > _EXTENDED_ADV_MAX or len(resp) > _EXTENDED_ADV_MAX:
            raise ValueError("Data too large for advertisement packet")
        extended = len(data) > _LEGACY_ADV_MAX or len(resp) > _LEGACY_ADV_MAX
        if anonymous and timeout == 0:
            timeout = _ADV_TIMEOUT_LIMITED_MAX
        ble = self._ready()
        if self.advertising:
            raise BluetoothError("Already advertising.")
        self._server.ensure()
        interval_us = int(interval * 1000000)
        if self._ext:
            kw = {"resp_data": resp, "connectable": bool(connectable), "anonymous": bool(anonymous), "timeout_ms": timeout * 1000}
            if not connectable:
                kw["scannable"] = bool(resp)
            if tx_power:
                kw["tx_power"] = tx_power
            if directed_to is not None:
                kw["directed_to"] = directed_to._to_bluetooth()
            if extended:
                kw["extended"] = True
            ble.gap_advertise(interval_us, data, **kw)
        else:
            for wanted, feature in (
                (extended, "advertising data longer than 31 bytes"),
                (anonymous, "anonymous advertising"),
                (timeout, "an advertising timeout"),
                (tx_power, "tx_power"),
                (directed_to is not None, "directed advertising"),
            ):
                if wanted:
                    raise needs_extension(feature, "gap_advertise options")
            ble.gap_advertise(interval_us, data, resp_data=resp, connectable=bool(connectable))
        self._advertising = True
        self._adv_connectable = bool(connectable)

    def stop_advertising(self):
        """Stop sending advertising packets."""
        if self._ble is not None and self._ble.active():
            self._ble.gap_advertise(None)
        self._advertising = False

    # ---- scanning -----------------------------------------------------------------

    def start_scan(
        self, prefixes=b"", *, buffer_size=512, extended=False, timeout=None, interval=0.1, window=0.1, minimum_rssi=-80,
        active=True,
    ):
        """Start scanning; returns a ScanResults iterator of ScanEntry objects."""
        prefixes = check_prefixes(prefixes)
        buffer_size = check_int(buffer_size, "buffer_size", 1, 0x7FFFFFFF)
        if timeout is not None:
            timeout = check_number(timeout, "timeout")
            if timeout < 0:
                raise ValueError("timeout must be >= 0")
        interval = check_number(interval, "interval")
        if not _SCAN_INTERVAL_MIN <= interval <= _SCAN_INTERVAL_MAX:
            raise ValueError("interval must be in range 0.0025-40.9594")
        window = check_number(window, "window")
        if not _SCAN_INTERVAL_MIN <= window <= _SCAN_INTERVAL_MAX:
            raise ValueError("window must be in range 0.0025-40.9594")
        if window > interval:
            raise ValueError("window must be <= interval")
        minimum_rssi = check_int(minimum_rssi, "minimum_rssi", -128, 127)
        ble = self._ready()
        if not hasattr(ble, "gap_scan"):
            raise NotImplementedError("start_scan: this board's BLE stack has no central role (gap_scan)")
        if self._scan is not None and not self._scan._done:
            raise BluetoothError("Scan already in progress. Stop with stop_scan.")
        results = ScanResults(prefixes, buffer_size, minimum_rssi, bool(extended))
        self._scan = results
        interval_us = min(int(interval * 1000000), 10240000)
        window_us = min(int(window * 1000000), interval_us)
        duration_ms = int(timeout * 1000) if timeout else 0
        try:
            ble.gap_scan(duration_ms, interval_us, window_us, bool(active))
        except OSError as exc:
            self._scan = None
            raise BluetoothError("start_scan failed: %s" % exc)
        return results

    def stop_scan(self):
        """Stop the current scan; its iterator returns what it buffered, then ends."""
        scan = self._scan
        if scan is None or scan._done:
            return
        scan._finish()
        if self._ble is not None and self._ble.active():
            self._ble.gap_scan(None)
        _wait.notify()

    # ---- connections ----------------------------------------------------------------

    @property
    def connected(self):
        """True when connected to at least one peer (read-only)."""
        return bool(self._conns)

    @property
    def connections(self):
        """Tuple of active connections (read-only)."""
        return tuple(self._conns.values())

    def connect(self, address, *, timeout):
        """Connect to the peripheral at `address`, trying for `timeout` seconds."""
        if not isinstance(address, Address):
            raise TypeError("address must be an Address")
        timeout = check_number(timeout, "timeout")
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        ble = self._ready()
        if not hasattr(ble, "gap_connect"):
            raise NotImplementedError("connect: this board's BLE stack has no central role (gap_connect)")
        if self._connecting is not None:
            raise BluetoothError("Already connecting")
        self._server.ensure()
        if self._scan is not None and not self._scan._done:
            self.stop_scan()
        addr_type, addr = address._to_bluetooth()
        attempt = [addr, None]  # [display address, Connection or False]
        self._connecting = attempt
        try:
            try:
                ble.gap_connect(addr_type, addr, max(1, int(timeout * 1000)))
            except OSError as exc:
                raise BluetoothError("Failed to connect: %s" % exc)
            if not _wait.until(lambda: attempt[1] is not None, timeout + 2):
                try:
                    ble.gap_connect(None)
                except OSError:
                    pass
                raise BluetoothError("Failed to connect: timeout")
        finally:
            self._connecting = None
        conn = attempt[1]
        if not conn:
            raise BluetoothError("Failed to connect: timeout")
        conn._exchange_mtu()
        return conn

    def erase_bonding(self):
        """Erase all stored bonding keys."""
        self._bond_store().clear()

    def _bond_store(self):
        if self._bonds is None:
            from ._bonds import BondStore, default_path

            self._bonds = BondStore(default_path())
        return self._bonds

    # ---- events -------------------------------------------------------------------

    def _irq(self, event, data):
        try:
            return self._on_event(event, data)
        except Exception as exc:  # an exception here would unhook the handler
            _report(exc)
        finally:
            _wait.notify()

    def _on_event(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            if self._scan is not None:
                self._scan._add(*data)
        elif event == _IRQ_SCAN_DONE:
            if self._scan is not None:
                self._scan._finish()
        elif event == _IRQ_CENTRAL_CONNECT or event == _IRQ_PERIPHERAL_CONNECT:
            handle, addr_type, addr = data
            role = "peripheral" if event == _IRQ_CENTRAL_CONNECT else "central"
            conn = Connection(self, handle, Address._from_bluetooth(addr_type, addr), role)
            self._conns[handle] = conn
            if role == "peripheral":
                if self._adv_connectable:
                    self._advertising = False
            elif self._connecting is not None:
                self._connecting[1] = conn
        elif event == _IRQ_CENTRAL_DISCONNECT or event == _IRQ_PERIPHERAL_DISCONNECT:
            handle = data[0]
            conn = self._conns.pop(handle, None)
            if conn is not None:
                conn._gone()
                self._server.forget(handle)
            elif event == _IRQ_PERIPHERAL_DISCONNECT and self._connecting is not None:
                self._connecting[1] = False
        elif event == _IRQ_GATTS_WRITE:
            self._server.on_write(data[0], data[1])
        elif event == _IRQ_GATTS_READ_REQUEST:
            return 0
        elif event == _IRQ_GATTC_NOTIFY or event == _IRQ_GATTC_INDICATE:
            conn = self._conns.get(data[0])
            if conn is not None:
                conn._on_notify(data[1], bytes(data[2]))
        elif event == _IRQ_GET_SECRET:
            return self._get_secret(*data)
        elif event == _IRQ_SET_SECRET:
            return self._set_secret(*data)
        elif event == _IRQ_PASSKEY_ACTION:
            conn = self._conns.get(data[0])
            if conn is not None:
                conn._on_passkey(data[1], data[2])
        elif event == _IRQ_GATTS_INDICATE_DONE:
            self._server.on_indicate_done(data[0], data[1], data[2])
        else:
            conn = self._conns.get(data[0]) if data else None
            if conn is not None:
                conn._on_event(event, data)
        return None

    # ---- bonding store (NimBLE's secret protocol, spec/bluetooth.md 4.5) ----------------

    def _get_secret(self, sec_type, index, key):
        return self._bond_store().get(sec_type, index, key)

    def _set_secret(self, sec_type, key, value):
        return self._bond_store().set(sec_type, key, value)


_HEXDIGITS = "0123456789abcdef"


def _hex(data):
    return "".join(_HEXDIGITS[b >> 4] + _HEXDIGITS[b & 15] for b in data)


def _report(exc):
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc)
    else:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _hci_spec(uart, rts, cts):
    """A transport spec for an HCI co-processor: a spec string, or a pyserial-like port object."""
    if isinstance(uart, str):
        return uart
    port = getattr(uart, "port", None)
    if not isinstance(port, str):
        raise TypeError("uart must be a serial port object (with .port) or a transport spec string")
    if (rts is None or cts is None) and not getattr(uart, "rtscts", False):
        raise ValueError("rts and cts are required (or a port opened with rtscts=True): H4 needs flow control")
    baud = getattr(uart, "baudrate", None) or 115200
    if getattr(uart, "is_open", False):
        uart.close()  # the stack opens the device itself
    return "serial:%s,%d,rtscts" % (port, baud)
