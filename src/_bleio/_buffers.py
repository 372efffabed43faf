"""`CharacteristicBuffer` (a byte stream) and `PacketBuffer` (whole packets) over a characteristic.

Both are fed by the adapter's irq handler: remote writes to a local characteristic, or
notifications/indications of a remote one. Readers block (with timeouts) via `_wait`.
"""

from . import _wait
from ._attribute import check_buffer, check_int, check_number
from ._errors import BluetoothError, not_connected


def _newline(data):
    """Index of the first b'\\n' (bytes.find: MicroPython's bytearray has no find)."""
    return bytes(data).find(b"\n")


def _check_characteristic(characteristic):
    from ._characteristic import Characteristic

    if not isinstance(characteristic, Characteristic):
        raise TypeError("characteristic must be of type Characteristic")
    return characteristic


class CharacteristicBuffer:
    """Accumulates a Characteristic's incoming values in a FIFO of bytes."""

    def __init__(self, characteristic, *, timeout=1, buffer_size=64):
        self._char = _check_characteristic(characteristic)
        timeout = check_number(timeout, "timeout")
        if timeout < 0:
            raise ValueError("timeout must be >= 0.0")
        self._timeout = timeout
        self._capacity = check_int(buffer_size, "buffer_size", 1, 0x7FFFFFFF)
        self._data = bytearray()
        self._deinited = False
        # Local characteristic: the port accumulates writes between our reads (append mode),
        # so a burst of writes is not lost while the handler is pending.
        self._append_mode = characteristic._service._remote_conn is None
        self.overflowed = 0
        characteristic._attach(self)

    def _push(self, conn_handle, data):
        room = self._capacity - len(self._data)
        if len(data) > room:
            self.overflowed += len(data) - room
            data = data[:room]
        self._data.extend(data)

    def _forget(self, conn_handle):
        pass

    def _check(self):
        if self._deinited:
            raise ValueError("Object has been deinitialized and can no longer be used. Create a new object.")

    @property
    def in_waiting(self):
        """Number of bytes waiting to be read."""
        self._check()
        return len(self._data)

    def _take(self, n):
        out = bytes(self._data[:n])
        self._data = self._data[n:]  # (MicroPython has no slice deletion on bytearray)
        return out

    def read(self, nbytes=None):
        """Read up to `nbytes` (waiting up to `timeout` for them), or everything until the data stops."""
        self._check()
        if nbytes is None:
            out = b""
            while _wait.until(lambda: len(self._data) > 0, self._timeout):
                out += self._take(len(self._data))
            return out or None
        nbytes = check_int(nbytes, "nbytes", 0, 0x7FFFFFFF)
        if nbytes == 0:
            return b""
        _wait.until(lambda: len(self._data) >= nbytes, self._timeout)
        if not self._data:
            return None
        return self._take(nbytes)

    def readinto(self, buf, nbytes=None):
        """Read at most len(buf) (or nbytes) bytes into `buf`; None if nothing arrived in time."""
        self._check()
        view = memoryview(buf)
        n = len(view) if nbytes is None else min(len(view), check_int(nbytes, "nbytes", 0, 0x7FFFFFFF))
        if n == 0:
            return 0
        _wait.until(lambda: len(self._data) >= n, self._timeout)
        if not self._data:
            return None
        data = self._take(n)
        view[: len(data)] = data
        return len(data)

    def readline(self):
        """Read a line ending in b'\\n' (or what arrived before the timeout)."""
        self._check()
        _wait.until(lambda: _newline(self._data) >= 0, self._timeout)
        if not self._data:
            return None
        i = _newline(self._data)
        return self._take(len(self._data) if i < 0 else i + 1)

    def reset_input_buffer(self):
        """Discard unread bytes."""
        self._check()
        self._data = bytearray()

    def deinit(self):
        """Stop buffering; the object can no longer be used."""
        if not self._deinited:
            self._deinited = True
            self._char._detach(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()


class PacketBuffer:
    """Packet-aware FIFO over a Characteristic: each write/notification is one packet."""

    def __init__(self, characteristic, *, buffer_size, max_packet_size=None):
        self._char = _check_characteristic(characteristic)
        self._capacity_packets = check_int(buffer_size, "buffer_size", 1, 0x7FFFFFFF)
        if max_packet_size is not None:
            max_packet_size = check_int(max_packet_size, "max_packet_size", 1, 512)
        self._max_packet = max_packet_size or characteristic._max_length
        self._capacity = self._capacity_packets * max(self._max_packet, 1)
        self._packets = []
        self._append_mode = False
        self._deinited = False
        # Server side, as CircuitPython: the client we talk to is the last one that subscribed,
        # else the first that wrote, until it unsubscribes or disconnects.
        self._peer = None
        self._subscribed = []  # clients seen subscribed at the last look
        self.overflowed = 0
        characteristic._attach(self)

    def _remote_conn(self):
        return self._char._service._remote_conn

    # ---- feeding -------------------------------------------------------------------

    def _push(self, conn_handle, data):
        if self._remote_conn() is None:
            peer = self._server_peer()
            if peer is None:
                self._peer = peer = conn_handle
            if peer != conn_handle:
                return  # server side: another client's packets are ignored while we talk to one
        if len(self._packets) >= self._capacity_packets:
            self.overflowed += 1
            return
        self._packets.append(bytes(data))

    def _forget(self, conn_handle):
        if self._peer == conn_handle:
            self._peer = None

    def _server_peer(self):
        """Server side: the connection writes go to (and packets are taken from), or None.

        MicroPython raises no event when a client writes its CCCD, so subscriptions are
        noticed by looking (the gatts_get_cccd extension); a client newly subscribed since
        the last look takes over.
        """
        adapter = self._char._service._server._adapter
        conns = adapter._conns
        if self._peer not in conns:
            self._peer = None
        ble = adapter._ble
        if not hasattr(ble, "gatts_get_cccd") or self._char._handle is None:
            return self._peer
        now = []
        for h in sorted(conns):
            try:
                if ble.gatts_get_cccd(h, self._char._handle):
                    now.append(h)
            except OSError:
                pass
        new = [h for h in now if h not in self._subscribed]
        if new:
            self._peer = new[-1]  # the newest connection when several subscribed unseen
        elif self._peer in self._subscribed and self._peer not in now:
            self._peer = None  # it unsubscribed
        self._subscribed = now
        return self._peer

    def _connection(self):
        conn = self._remote_conn()
        if conn is not None:
            return conn if conn._connected else None
        adapter = self._char._service._server._adapter
        h = self._server_peer()
        if h is None and adapter._conns and not hasattr(adapter._ble, "gatts_get_cccd"):
            h = sorted(adapter._conns)[0]  # subscriptions cannot be seen: the first client stands in
        return adapter._conns.get(h)

    def _check(self):
        if self._deinited:
            raise ValueError("Object has been deinitialized and can no longer be used. Create a new object.")

    # ---- public API --------------------------------------------------------------------

    @property
    def incoming_packet_length(self):
        """Maximum length in bytes of a packet we are reading."""
        self._check()
        conn = self._connection()
        if conn is None:
            raise BluetoothError("No connection: length cannot be determined")
        return min(self._max_packet, conn._mtu - 3)

    @property
    def outgoing_packet_length(self):
        """Maximum length in bytes of a packet we are writing."""
        self._check()
        conn = self._connection()
        if conn is None:
            raise BluetoothError("No connection: length cannot be determined")
        return min(self._max_packet, conn._mtu - 3)

    def readinto(self, buf):
        """Copy the next packet into `buf` and return its length (0 if none is waiting)."""
        self._check()
        view = memoryview(buf)
        if not self._packets:
            return 0
        packet = self._packets[0]
        if len(packet) > len(view):
            raise ValueError("Buffer too short by %d bytes" % (len(packet) - len(view)))
        self._packets.pop(0)
        view[: len(packet)] = packet
        return len(packet)

    def write(self, data, *, header=None):
        """Send `header` + `data` as one packet; returns the number of bytes written."""
        self._check()
        payload = check_buffer(data, "data")
        if header is not None:
            payload = check_buffer(header, "header") + payload
        char = self._char
        remote = self._remote_conn() is not None
        if not char._props & ((char.WRITE | char.WRITE_NO_RESPONSE) if remote else (char.NOTIFY | char.INDICATE)):
            raise BluetoothError("Writes not supported on Characteristic")
        conn = self._connection()
        if conn is None:
            raise not_connected()
        limit = min(self._max_packet, conn._mtu - 3)
        if len(payload) > limit:
            raise ValueError("Total data to write is larger than outgoing_packet_length")
        ble = conn._adapter._ble
        if remote:
            with_response = not (char._props & char.WRITE_NO_RESPONSE)
            conn._write(char._handle, payload, with_response)
        elif char._props & char.NOTIFY:
            conn._send_retrying(lambda: ble.gatts_notify(conn._handle, char._handle, payload))
        else:
            # One indication in flight per connection: wait for the previous confirmation.
            h = conn._handle
            _wait.until(lambda: h not in char._indications or not conn._connected, 10.0)
            if not conn._connected:
                raise not_connected()
            char._indications[h] = True
            try:
                conn._send_retrying(lambda: ble.gatts_indicate(h, char._handle, payload))
            except BaseException:
                char._indications.pop(h, None)
                raise
        return len(payload)

    def deinit(self):
        """Stop buffering; the object can no longer be used."""
        if not self._deinited:
            self._deinited = True
            self._char._detach(self)
