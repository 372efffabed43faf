"""L2CAP connection-oriented channels for the port (spec §3.13) over Bumble's LE CoC.

The semantics are MicroPython's (NimBLE), not Bumble's:
* one channel per board in total, and listening occupies it for good (EALREADY otherwise;
  the extension BLE.l2cap_max_channels(n) allows several);
* an incoming channel waits for the application's _IRQ_L2CAP_ACCEPT answer; Bumble answers
  a request at once, so the manager's request handler is intercepted for our PSM;
* received SDUs pile up until the application drains them with l2cap_recvinto, and only
  then does the peer get credits again (Bumble would top them up by itself): a slow reader
  stalls the sender, after a window of a few SDUs (credits_for); a peer that cuts SDUs
  into small PDUs gets what it needs to finish the SDU it is in (_finish_sdu);
* l2cap_send says False when its SDU could not leave at once for lack of credits; the SDU
  still leaves when credits come, and then _IRQ_L2CAP_SEND_READY is raised.

Credits are counted twice: Bumble counts what is really sent; the main thread keeps its own
count (under `lock`) so l2cap_send can answer without waiting for the radio loop. Both see
the same credits in the same order, so they agree about when a stalled SDU has left.
"""

import asyncio
import logging
import threading

from bumble import l2cap

from . import bumble_compat

from bluetooth._port import (
    EALREADY, EBUSY, EINVAL, ENOMEM, STATUS_ENOMEM, STATUS_ENOTCONN, STATUS_ENOTSUP, STATUS_ETIMEOUT,
    STATUS_EUNKNOWN, PortError,
)

log = logging.getLogger("bleboard.port")

Result = l2cap.L2CAP_LE_Credit_Based_Connection_Response.Result
MIN_MPS = l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MIN_MPS
MAX_MPS = l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MAX_MPS

# How long an incoming channel waits for the application's ACCEPT answer, and how long the
# signalling exchanges (connect, disconnect) may take before we give up on the peer.
ACCEPT_TIMEOUT = 20.0
CONNECT_TIMEOUT = 30.0
DISCONNECT_TIMEOUT = 5.0

# Peer's refusal (L2CAP result) -> the NimBLE host error (BLE_HS_*) reported for it.
_RESULT_TO_STATUS = {
    Result.CONNECTION_REFUSED_LE_PSM_NOT_SUPPORTED: STATUS_ENOTSUP,
    Result.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE: STATUS_ENOMEM,
    Result.CONNECTION_REFUSED_INSUFFICIENT_AUTHENTICATION: 23,
    Result.CONNECTION_REFUSED_INSUFFICIENT_AUTHORIZATION: 24,
    Result.CONNECTION_REFUSED_INSUFFICIENT_ENCRYPTION_KEY_SIZE: 26,
    Result.CONNECTION_REFUSED_INSUFFICIENT_ENCRYPTION: 25,
    Result.CONNECTION_REFUSED_INVALID_SOURCE_CID: 16,
    Result.CONNECTION_REFUSED_SOURCE_CID_ALREADY_ALLOCATED: 2,
    Result.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS: 3,
}
# The application's non-zero ACCEPT answer -> the refusal sent to the peer (default: no resources).
_STATUS_TO_RESULT = {status: result for result, status in _RESULT_TO_STATUS.items() if status not in (2, 16)}


def refusal_for(answer):
    return _STATUS_TO_RESULT.get(answer, Result.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE)


def status_for(result):
    return _RESULT_TO_STATUS.get(result, STATUS_EUNKNOWN)


def mps_for(mtu):
    """Our PDU size: a whole SDU per PDU (the host splits it into ACL packets anyway)."""
    return max(MIN_MPS, min(mtu + 2, MAX_MPS))


# How much the peer may send ahead of the application: about WINDOW_BYTES, and between
# MIN_ and MAX_WINDOW_SDUS full SDUs (see credits_for).
WINDOW_BYTES = 64 * 1024
MIN_WINDOW_SDUS = 4
MAX_WINDOW_SDUS = 64


def credits_for(mtu):
    """The credit window: the peer is topped up to it once the application has drained.

    NimBLE grants enough for one SDU. Here every SDU crosses from the radio thread to the
    application's thread and its credits cross back, which costs far more than its bytes,
    so one SDU at a time would cap the throughput far below the link's. MicroPython's rule
    stays: credits come back only once the pending data is drained, so a slow reader
    still stalls the sender, after a window of SDUs instead of one. Our MPS is the MTU (up
    to 65533), so a credit is an SDU (two for the largest MTUs).
    """
    sdus = max(MIN_WINDOW_SDUS, min(MAX_WINDOW_SDUS, WINDOW_BYTES // (mtu + 2)))
    return sdus * -(-(mtu + 2) // mps_for(mtu))


class Channel:
    """One channel: accepting, opening (accepted), connecting, open or closed."""

    def __init__(self, link, psm, our_mtu, incoming):
        self.link = link
        self.psm = psm
        self.our_mtu = our_mtu
        self.state = "accepting" if incoming else "connecting"
        self.cid = 0  # our (source) CID
        self.peer_mtu = 0
        self.peer_mps = 0
        self.bc = None  # Bumble LeCreditBasedChannel once open
        self.rx = bytearray()  # received, not yet read by the application
        self.tx_credits = 0  # credits not yet promised to an SDU (main-thread view)
        self.owed = 0  # credits the stalled SDU still needs
        self.stalled = False
        self.hidden_later = False  # closed, but the application sees it until DISCONNECT
        self.timer = None
        self.answer = None  # the request waiting for the application's ACCEPT answer


class L2cap:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.device = None
        self.manager = None
        # MicroPython's limit is one channel in total, listening included. The extension
        # BLE.l2cap_max_channels(n) raises it: then listening takes no channel, several PSMs
        # may be listened on, and up to n channels may be open at once.
        self.max_channels = 1
        self.servers = {}  # psm -> (our mtu, Bumble server)
        self.channels = []  # the radio loop's view: every channel not closed yet
        # The application's view: (conn_handle, cid) -> channel, from the delivery of its
        # CONNECT event to that of its DISCONNECT, so a call never fails before the
        # handler has heard why.
        self.visible = {}

    # ---- hooks called by stack.py -------------------------------------------
    def attach(self, device):
        """A new Bumble device (active(True)): no channel, nothing listening."""
        self.reset()
        self.device = device
        self.manager = device.l2cap_channel_manager
        bumble_compat.intercept_le_coc_signalling(self.manager, self._on_request, self._on_response)

    def on_link_closed(self, link, notify):
        """The connection dropped: its channels are gone (events before the disconnect event)."""
        for chan in [c for c in self.channels if c.link is link]:
            if chan.state == "open":
                self._closed(chan, 0, notify)
            elif chan.state == "connecting":
                self._closed(chan, STATUS_ENOTCONN, notify)
            else:
                self._release(chan)

    def reset(self):
        """active(False): forget every channel silently."""
        for chan in self.channels:
            if chan.timer is not None:
                chan.timer.cancel()
            chan.state = "closed"
        with self.lock:
            self.channels = []
            self.visible = {}
            servers, self.servers = self.servers, {}
        for _mtu, server in servers.values():
            try:
                server.close()
            except Exception:  # the device is going away anyway
                pass

    # ---- called by the binding (main thread) ---------------------------------
    def set_max_channels(self, count):
        with self.lock:
            self.max_channels = count

    def _check_room(self, listen_psm=None):
        """Under the lock: may one more channel (or a listener) be made?"""
        if self.max_channels == 1:
            if self.servers or self.channels:
                raise PortError(EALREADY, "an L2CAP channel is already in use (listening or connected)")
        elif listen_psm is not None:
            if listen_psm in self.servers:
                raise PortError(EALREADY, "already listening on PSM %d" % listen_psm)
        elif len(self.channels) >= self.max_channels:
            raise PortError(ENOMEM, "all %d L2CAP channels are in use" % self.max_channels)

    def listen(self, psm, mtu):
        with self.lock:
            self._check_room(listen_psm=psm)
            self.servers[psm] = (mtu, None)
        try:
            self.port.rl.run(self._listen(psm, mtu))
        except BaseException:
            with self.lock:
                self.servers.pop(psm, None)
            raise

    def connect(self, conn_handle, psm, mtu):
        with self.lock:
            self._check_room()
            link = self.port.link(conn_handle)
            chan = Channel(link, psm, mtu, incoming=False)
            self.channels.append(chan)
        self.port.rl.call_soon(self._start_connect, chan)

    def disconnect(self, conn_handle, cid):
        with self.lock:
            chan = self._open_channel(conn_handle, cid)
        self.port.rl.spawn(self._disconnect(chan))

    def send(self, conn_handle, cid, data):
        with self.lock:
            # A closed channel is no channel: EINVAL, as the spec and NimBLE say (not ENOTCONN).
            chan = self._open_channel(conn_handle, cid)
            if len(data) > chan.peer_mtu:
                raise PortError(EINVAL, "buf longer than the peer's MTU (%d)" % chan.peer_mtu)
            if len(data) > 2 * chan.our_mtu:
                raise PortError(EINVAL, "buf longer than twice our MTU (%d)" % chan.our_mtu)
            if chan.stalled:
                raise PortError(EBUSY, "channel stalled: wait for _IRQ_L2CAP_SEND_READY")
            if not data:
                return True
            need = -(-(len(data) + 2) // chan.peer_mps)
            if chan.tx_credits >= need:
                chan.tx_credits -= need
                ready = True
            else:
                chan.owed = need - chan.tx_credits
                chan.tx_credits = 0
                chan.stalled = True
                ready = False
        self.port.rl.call_soon(self._write, chan, data)
        return ready

    def recvinto(self, conn_handle, cid, buf):
        with self.lock:
            chan = self._open_channel(conn_handle, cid)
            if buf is None:
                return len(chan.rx)
            n = min(len(buf), len(chan.rx))
            if not n:
                return 0
            if n == len(chan.rx):
                buf[:n] = chan.rx
                chan.rx = bytearray()
            else:
                buf[:n] = chan.rx[:n]
                del chan.rx[:n]
            drained = not chan.rx
        if drained and self._wants_credits(chan):
            self.port.rl.call_soon(self._grant, chan)
        return n

    def _open_channel(self, conn_handle, cid):
        chan = self.visible.get((conn_handle, cid))
        if chan is not None:
            return chan
        raise PortError(EINVAL, "no L2CAP channel %d on connection %d" % (cid, conn_handle))

    # ---- radio loop: listening and accepting ----------------------------------
    async def _listen(self, psm, mtu):
        spec = l2cap.LeCreditBasedChannelSpec(psm=psm, mtu=mtu, mps=mps_for(mtu), max_credits=credits_for(mtu))
        server = self.device.create_l2cap_server(spec, handler=self._on_incoming_open)
        with self.lock:
            self.servers[psm] = (mtu, server)

    def _on_request(self, connection, sig_cid, frame, original):
        link = self.port.links.get(connection.handle)
        listening = self.servers.get(frame.le_psm)
        mtu = listening[0] if listening else l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_DEFAULT_MTU
        if bumble_compat.refuse_invalid_le_coc_request(self.manager, connection, sig_cid, frame, max(23, mtu), mps_for(mtu)):
            return
        if listening is None:
            original(connection, sig_cid, frame)  # Bumble refuses: PSM not supported
            return
        with self.lock:
            busy = link is None or len(self.channels) >= self.max_channels
            if not busy:
                chan = Channel(link, frame.le_psm, listening[0], incoming=True)
                self.channels.append(chan)
        if busy:
            self._refuse(connection, sig_cid, frame, Result.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE)
            return
        chan.peer_mtu = frame.mtu
        taken = list(bumble_compat.le_channels_by_cid(self.manager, connection.handle)) + self._reserved(chan)
        chan.cid = self.manager.find_free_le_cid(taken) or 0
        chan.answer = (connection, sig_cid, frame, original)
        chan.timer = asyncio.get_running_loop().call_later(ACCEPT_TIMEOUT, self._answer, chan, STATUS_ENOMEM)
        rl = self.port.rl
        self.port.sink.on_l2cap_accept(
            link.handle, chan.cid, chan.psm, chan.our_mtu, chan.peer_mtu,
            lambda status: rl.call_soon(self._answer, chan, status),
        )

    def _reserved(self, chan):
        """CIDs promised in ACCEPT events of other channels of that link, not allocated yet."""
        return [c.cid for c in self.channels if c is not chan and c.state == "accepting" and c.link is chan.link]

    def _answer(self, chan, refusal):
        if chan.state != "accepting":
            return  # answered already, timed out, link gone or radio stopped
        if chan.timer is not None:
            chan.timer.cancel()
            chan.timer = None
        connection, sig_cid, frame, original = chan.answer
        chan.answer = None
        if refusal:
            self._release(chan)
            self._refuse(connection, sig_cid, frame, refusal_for(refusal))
            return
        chan.state = "opening"
        # Bumble takes the lowest free CID: hold the ones promised to others so that this
        # channel gets the one its ACCEPT event showed.
        table = bumble_compat.le_channels_by_cid(self.manager, connection.handle)
        held = [cid for cid in self._reserved(chan) if cid not in table]
        for cid in held:
            table[cid] = None
        try:
            original(connection, sig_cid, frame)  # Bumble allocates, answers, then _on_incoming_open
        finally:
            for cid in held:
                if table.get(cid) is None:
                    table.pop(cid, None)
        if chan.state == "opening":
            self._release(chan)  # Bumble refused it (e.g. the peer's CID is in use)

    def _refuse(self, connection, sig_cid, frame, result):
        mtu = self.servers.get(frame.le_psm, (23, None))[0]
        self.manager.send_control_frame(connection, sig_cid, l2cap.L2CAP_LE_Credit_Based_Connection_Response(
            identifier=frame.identifier, destination_cid=0, mtu=max(23, mtu), mps=mps_for(mtu),
            initial_credits=0, result=result))

    def _on_incoming_open(self, bc):
        for chan in self.channels:
            if chan.state == "opening" and chan.link.connection is bc.connection:
                self._prepare(chan, bc)
                self._opened(chan, bc)
                return

    # ---- radio loop: connecting -----------------------------------------------
    def _start_connect(self, chan):
        if chan.state == "connecting":
            asyncio.ensure_future(self._connect(chan))

    async def _connect(self, chan):
        mtu = chan.our_mtu
        spec = l2cap.LeCreditBasedChannelSpec(psm=chan.psm, mtu=mtu, mps=mps_for(mtu), max_credits=credits_for(mtu))
        table = bumble_compat.le_channels_by_cid(self.manager, chan.link.handle)
        before = set(table)
        task = asyncio.ensure_future(self.manager.create_le_credit_based_channel(chan.link.connection, spec))
        await asyncio.sleep(0)  # the task has allocated our CID and sent the request
        pending = None
        for cid in set(table) - before:
            bc = table[cid]
            if bc is not None and bc.psm == chan.psm and bc.state == bc.State.CONNECTING:
                chan.cid, pending = cid, bc
        status = STATUS_EUNKNOWN
        try:
            await asyncio.wait_for(task, CONNECT_TIMEOUT)
            return
        except asyncio.TimeoutError:
            status = STATUS_ETIMEOUT
            if pending is not None:
                bumble_compat.forget_le_coc_request(self.manager, pending)
        except asyncio.CancelledError:
            status = STATUS_ENOTCONN  # the link dropped (Bumble cancels the request)
        except l2cap.L2capError as exc:
            status = status_for(exc.error_code)
        except Exception as exc:  # any other failure ends the attempt
            log.debug("L2CAP connect failed: %r", exc)
        if chan.state == "connecting":
            self._closed(chan, status, True)

    def _on_response(self, connection, sig_cid, frame, original):
        request = bumble_compat.pending_le_coc_request(self.manager, frame.identifier)
        chan = bc = None
        if request is not None:
            for c in self.channels:
                if (c.state == "connecting" and c.link.connection is connection and c.cid == request.source_cid
                        and c.psm == request.le_psm):
                    chan = c
                    bc = self.manager.find_channel(connection.handle, request.source_cid)
                    break
        if bc is not None:
            self._prepare(chan, bc)  # before it opens: data may follow in the same batch
        original(connection, sig_cid, frame)
        if bc is None:
            return
        if bc.state == bc.State.CONNECTED:
            self._opened(chan, bc)
        else:
            self._closed(chan, status_for(frame.result), True)

    # ---- radio loop: an open channel ------------------------------------------
    def _prepare(self, chan, bc):
        """Take flow control and reception away from Bumble's defaults."""
        bumble_compat.adopt_le_coc_channel(bc)  # a peer that breaks flow control loses the channel
        bc.sink = lambda sdu: self._on_sdu(chan, sdu)

        def credits_arrived(count):
            if bc.state == bc.State.CONNECTED:
                self._on_credits(chan, count)

        def stuck_in_sdu():
            if chan.state == "open" and bc.state == bc.State.CONNECTED:
                self._finish_sdu(chan, bc)

        # We top the peer up ourselves, once the application has drained the channel.
        bumble_compat.tap_le_coc_channel(bc, credits_arrived, stuck_in_sdu)
        bc.on(bc.EVENT_CLOSE, lambda: self._closed(chan, 0, True))

    def _opened(self, chan, bc):
        with self.lock:
            chan.bc = bc
            chan.cid = bc.source_cid
            chan.peer_mtu = bc.peer_mtu
            chan.peer_mps = bc.peer_mps
            chan.tx_credits = bc.credits
            chan.state = "open"
        link = chan.link
        self.port.sink.on_l2cap_connect(link.handle, chan.cid, chan.psm, chan.our_mtu, chan.peer_mtu,
                                        lambda: self._show(chan))

    def _show(self, chan):
        key = (chan.link.handle, chan.cid)
        with self.lock:
            if chan.state == "open" or chan.hidden_later:
                self.visible[key] = chan

    def _hide(self, chan):
        key = (chan.link.handle, chan.cid)
        with self.lock:
            chan.rx = bytearray()
            if self.visible.get(key) is chan:
                del self.visible[key]

    def _on_sdu(self, chan, sdu):
        if chan.state != "open":
            return
        with self.lock:
            chan.rx += sdu
            empty = not chan.rx
        self.port.sink.on_l2cap_recv(chan.link.handle, chan.cid)
        if empty:
            self._grant(chan)  # an empty SDU: nothing to drain, so nothing to wait for

    @staticmethod
    def _wants_credits(chan):
        """Whether _grant would send credits (read across threads: the radio loop only ever
        lowers peer_credits before the RECV event that leads here, so a later drain sees it)."""
        bc = chan.bc
        return bc is not None and bumble_compat.peer_credits(bc) * 2 <= credits_for(chan.our_mtu)

    def _grant(self, chan):
        """The application has read everything: top the peer's credits up to the window."""
        bc = chan.bc
        if chan.state != "open" or bc is None or bc.state != bc.State.CONNECTED:
            return
        with self.lock:
            if chan.rx:
                return
        window = credits_for(chan.our_mtu)
        left = bumble_compat.peer_credits(bc)
        # Top up once the peer is down to half its credits: one frame per few SDUs, as
        # Bumble does. Every SDU fits one PDU (our MPS is the MTU), so a stalled peer has
        # none left and always gets them.
        if window - left > 0 and left * 2 <= window:
            bumble_compat.give_credits(self.manager, bc, window - left)

    def _finish_sdu(self, chan, bc):
        """The peer ran out of credits in the middle of an SDU (it cuts SDUs into PDUs
        smaller than our MPS): without more it could never finish it, and the application
        could never drain. Give what the rest of this SDU needs at the smallest PDU size."""
        bumble_compat.give_credits(self.manager, bc, bumble_compat.credits_to_finish_sdu(bc, MIN_MPS))

    def _on_credits(self, chan, count):
        with self.lock:
            if chan.state != "open":
                return
            if not chan.stalled:
                chan.tx_credits += count
                return
            if count < chan.owed:
                chan.owed -= count
                return
            chan.tx_credits += count - chan.owed
            chan.owed = 0
            chan.stalled = False
        self.port.sink.on_l2cap_send_ready(chan.link.handle, chan.cid, 0)

    def _write(self, chan, data):
        bc = chan.bc
        if chan.state == "open" and bc.state == bc.State.CONNECTED:
            bc.write(data)

    async def _disconnect(self, chan):
        bc = chan.bc
        if chan.state != "open" or bc.state != bc.State.CONNECTED:
            return
        try:
            await asyncio.wait_for(bc.disconnect(), DISCONNECT_TIMEOUT)
        except Exception as exc:  # no answer from the peer: close our side anyway
            log.debug("L2CAP disconnect: %r", exc)
            bc.abort()
        self._closed(chan, 0, True)

    # ---- closing ----------------------------------------------------------------
    def _closed(self, chan, status, notify):
        with self.lock:
            if chan.state == "closed":
                return
            chan.hidden_later = chan.state == "open" and notify  # its CONNECT may be undelivered yet
            chan.state = "closed"
            if chan in self.channels:
                self.channels.remove(chan)
        bc = chan.bc
        if bc is not None and self.manager is not None:
            bumble_compat.forget_le_coc_by_peer_cid(self.manager, bc)
        if notify:
            self.port.sink.on_l2cap_disconnect(chan.link.handle, chan.cid, chan.psm, status,
                                               lambda: self._hide(chan))
        else:
            self._hide(chan)

    def _release(self, chan):
        """An incoming channel that never opened: free its place without an event."""
        with self.lock:
            chan.state = "closed"
            if chan in self.channels:
                self.channels.remove(chan)
        if chan.timer is not None:
            chan.timer.cancel()
            chan.timer = None
