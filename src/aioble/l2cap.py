"""L2CAP connection-oriented channels: accept, connect, send with flow control, receive."""

from .compat import const
from .core import ble, wait, wake, handle, _stoppers, L2CAPDisconnectedError, L2CAPConnectionError
from .device import _connected

_IRQ_L2CAP_ACCEPT = const(22)
_IRQ_L2CAP_CONNECT = const(23)
_IRQ_L2CAP_DISCONNECT = const(24)
_IRQ_L2CAP_RECV = const(25)
_IRQ_L2CAP_SEND_READY = const(26)

_channels = {}  # (conn_handle, cid) -> L2CAPChannel
_listening = None  # the PSM we listen on (the stack cannot stop listening)


class L2CAPChannel:
    """An open channel, from l2cap_accept() or l2cap_connect(). Do not construct."""

    def __init__(self, connection, cid, psm, our_mtu, peer_mtu):
        self._conn = connection
        self._cid = cid
        self.psm = psm
        self.our_mtu = our_mtu
        self.peer_mtu = peer_mtu
        self._stalled = False

    def __repr__(self):
        return "L2CAPChannel(psm=%d, cid=%s)" % (self.psm, self._cid)

    def _check(self):
        # Returns None, so `lambda: self._check() or <ready>` reads naturally.
        if self._cid is None or self._conn._conn_handle is None:
            raise L2CAPDisconnectedError

    def _call(self, method, *args):
        # The channel can close between our check and the stack's call: the stack then
        # reports an unknown channel (EINVAL on NimBLE, ENOTCONN here) - that is a disconnect.
        self._check()
        try:
            return getattr(ble(), method)(self._conn._conn_handle, self._cid, *args)
        except OSError as e:
            if e.args[0] in (22, 107):
                raise L2CAPDisconnectedError
            raise

    def _pending(self):
        return self._call("l2cap_recvinto", None)

    def available(self):
        try:
            return self._pending() > 0
        except L2CAPDisconnectedError:
            return False

    async def recvinto(self, buf, timeout_ms=None):
        """Receive into buf (waiting for data if there is none); returns the byte count."""
        await wait(self, self._pending, timeout_ms)
        return self._call("l2cap_recvinto", buf)

    async def send(self, buf, timeout_ms=None, chunk_size=None):
        """Send buf in SDUs of at most min(2 * our_mtu, peer_mtu), waiting for credits."""
        n = min(self.our_mtu * 2, self.peer_mtu)
        if chunk_size:
            n = min(n, chunk_size)
        if isinstance(buf, str):
            buf = buf.encode()  # MicroPython's str is a buffer; CPython's memoryview refuses it
        mv = memoryview(buf)
        for i in range(0, len(mv), n):
            await self.flush(timeout_ms)
            # Stalled first: the SEND_READY irq may run as soon as l2cap_send returns.
            self._stalled = True
            if self._call("l2cap_send", mv[i : i + n]):
                self._stalled = False

    async def flush(self, timeout_ms=None):
        """Wait until the stack can take more data (a stalled send has drained)."""
        await wait(self, lambda: self._check() or not self._stalled, timeout_ms)

    async def disconnect(self, timeout_ms=1000):
        if self._cid is not None and self._conn._conn_handle is not None:
            ble().l2cap_disconnect(self._conn._conn_handle, self._cid)
        await self.disconnected(timeout_ms)

    async def disconnected(self, timeout_ms=None):
        await wait(self, lambda: self._cid is None or self._conn._conn_handle is None, timeout_ms)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        await self.disconnect()


async def _open(conn, timeout_ms):
    # Wait for the irq handler to hand over the new channel (or a failure status).
    try:
        await wait(conn, lambda: conn._check() or conn._l2cap is not None, timeout_ms)
        ch = conn._l2cap
    finally:
        conn._l2cap = None
    if isinstance(ch, int):
        raise L2CAPConnectionError(ch)
    return ch


async def _accept(conn, psm, mtu, timeout_ms):
    global _listening
    conn._check()
    if _listening != psm:
        ble().l2cap_listen(psm, mtu)
        _listening = psm
    return await _open(conn, timeout_ms)


async def _connect(conn, psm, mtu, timeout_ms):
    conn._check()
    ble().l2cap_connect(conn._conn_handle, psm, mtu)
    return await _open(conn, timeout_ms)


def _irq(event, data):
    conn_handle, cid = data[0], data[1]
    key = (conn_handle, cid)
    conn = _connected.get(conn_handle)
    if event == _IRQ_L2CAP_ACCEPT:
        return 0
    if event == _IRQ_L2CAP_CONNECT:
        if conn:
            ch = _channels[key] = L2CAPChannel(conn, cid, data[2], data[3], data[4])
            conn._l2cap = ch
            wake(conn)
        return
    ch = _channels.get(key)
    if event == _IRQ_L2CAP_DISCONNECT:
        if ch:
            del _channels[key]
            ch._cid = None
            wake(ch)
        elif conn:  # a connect attempt failed
            conn._l2cap = data[3] or -1
            wake(conn)
    elif ch:
        if event == _IRQ_L2CAP_SEND_READY:
            ch._stalled = False
        wake(ch)


def _stop():
    global _listening
    _listening = None
    _channels.clear()


handle(_irq, _IRQ_L2CAP_ACCEPT, _IRQ_L2CAP_CONNECT, _IRQ_L2CAP_DISCONNECT, _IRQ_L2CAP_RECV, _IRQ_L2CAP_SEND_READY)
_stoppers.append(_stop)
