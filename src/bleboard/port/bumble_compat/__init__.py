"""Every place the port reaches into Bumble 0.0.236 beyond its public API.

First, corrections for peers that break the rules. Each is a small function or subclass
written as it would be proposed upstream: its docstring names the Core specification
section, what Bumble does, and what the specification asks for instead. The port applies
them to every Device it builds (`install`), and to each LE credit-based channel it takes
over (`adopt_le_coc_channel`).

Then the hooks MicroPython's semantics need (tap_*, forget_*, ...): each names the private
attribute or handler it relies on. The two subclasses that override Bumble's own methods
are beside this file: host.py (QuietHost) and session.py (the port's SMP session). All of
it is pinned to Bumble 0.0.236's behaviour: upgrading Bumble starts by re-reading this
package (docs/port-contract.md).
"""

import asyncio
import logging
import weakref

from bumble import att, gatt_server, hci, l2cap, smp, utils

log = logging.getLogger("bleboard.port")

# Vol 3 Part H 3.4: a pairing that sends nothing for this long has failed.
SMP_TIMEOUT = 30.0
# How long a channel we disconnect for a protocol violation waits for the peer's answer.
L2CAP_DISCONNECT_TIMEOUT = 5.0

ATT_INVALID_PDU = 0x04
ATT_REQUEST_NOT_SUPPORTED = 0x06


def install(device, smp_timeout=None):
    """Apply the ATT and SMP corrections to one Device (before power-on)."""
    device.smp_timeout = SMP_TIMEOUT if smp_timeout is None else float(smp_timeout)
    device.gatt_server.__class__ = GuardedGattServer
    fixed = device.l2cap_channel_manager.fixed_channels
    fixed[att.ATT_CID] = _AttRequestCheck(device, fixed[att.ATT_CID])
    fixed[smp.SMP_CID] = _SmpCommandCheck(device, fixed[smp.SMP_CID])


# ---- ATT ------------------------------------------------------------------------------

# Request opcode -> (shortest, longest) PDU length including the opcode, None: up to ATT_MTU.
# Vol 3 Part F 3.4 gives each request's parameters.
_REQUEST_LENGTHS = {
    0x02: (3, 3),  # Exchange MTU
    0x04: (5, 5),  # Find Information
    0x06: (7, None),  # Find By Type Value
    0x08: (7, 21),  # Read By Type (16- or 128-bit UUID)
    0x0A: (3, 3),  # Read
    0x0C: (5, 5),  # Read Blob
    0x0E: (5, None),  # Read Multiple (two handles or more)
    0x10: (7, 21),  # Read By Group Type
    0x12: (3, None),  # Write
    0x16: (5, None),  # Prepare Write
    0x18: (2, 2),  # Execute Write
    0x20: (5, None),  # Read Multiple Variable
}
# Commands: opcode -> shortest length (handle, then the value; a signed write adds 12 bytes).
_COMMAND_LENGTHS = {0x52: 3, 0xD2: 15}
_UUID_SIZED = (0x08, 0x10)
_HANDLE_LISTS = (0x0E, 0x20)
_COMMAND_FLAG = 0x40


def att_request_refusal(pdu, att_mtu):
    """The ATT error code a server owes a request it cannot parse, or None.

    Vol 3 Part F 3.4.1.1 and 3.4.9: a request the server does not support gets Request Not
    Supported; a request whose length is wrong gets Invalid PDU; both name handle 0x0000.
    PDUs with the command flag, and the server-to-client PDUs (odd opcodes), are never
    answered. Bumble 0.0.236 raises while parsing a truncated PDU or an unassigned opcode,
    so the client hears nothing and waits out its 30 s transaction timeout.
    """
    opcode = pdu[0]
    if opcode & 1 or opcode & _COMMAND_FLAG or opcode == att.Opcode.ATT_HANDLE_VALUE_CONFIRMATION:
        return None
    lengths = _REQUEST_LENGTHS.get(opcode)
    if lengths is None:
        return ATT_REQUEST_NOT_SUPPORTED
    shortest, longest = lengths
    size = len(pdu)
    if size < shortest or (longest is not None and size > longest) or size > max(att_mtu, 23):
        return ATT_INVALID_PDU
    if opcode in _UUID_SIZED and size not in (7, 21):
        return ATT_INVALID_PDU
    if opcode in _HANDLE_LISTS and (size - 1) % 2:
        return ATT_INVALID_PDU
    return None


class _AttRequestCheck:
    """The ATT fixed channel's handler, answering requests Bumble would drop."""

    def __init__(self, device, handler):
        self.device = device
        self.handler = handler

    def __call__(self, connection_handle, pdu):
        if not pdu:
            return
        opcode = pdu[0]
        if opcode & 1 or opcode & _COMMAND_FLAG:
            # Notifications, responses, commands: no answer is owed, and what Bumble could
            # not parse is dropped (3.3: a server ignores a command it does not support).
            if opcode in att.ATT_PDU.pdu_classes and len(pdu) >= _COMMAND_LENGTHS.get(opcode, 1):
                self.handler(connection_handle, pdu)
            return
        connection = self.device.lookup_connection(connection_handle)
        if connection is None:
            return
        refusal = att_request_refusal(pdu, connection.att_mtu)
        if refusal is not None:
            response = att.ATT_Error_Response(
                request_opcode_in_error=opcode, attribute_handle_in_error=0, error_code=refusal)
            self.device.gatt_server.send_response(connection, response)
            return
        self.handler(connection_handle, pdu)


class GuardedGattServer(gatt_server.Server):
    """Bumble's GATT server, answering Read Multiple requests on protected attributes.

    Vol 3 Part F 3.4.4.7 and 3.4.4.11: when any attribute of a Read Multiple (Variable)
    Request cannot be read, the server answers with an Error Response naming the first
    such handle and the reason. Bumble 0.0.236 assumes every attribute in the set is
    readable, so the permission error escapes its handler and no response is ever sent.
    """

    async def _read_set(self, bearer, request):
        """(handle, value) for each handle, or the error response for the first refusal."""
        values = []
        for handle in request.set_of_handles:
            attribute = self.get_attribute(handle)
            if attribute is None:
                return None, att.ATT_Error_Response(
                    request_opcode_in_error=request.op_code, attribute_handle_in_error=handle,
                    error_code=att.ATT_ATTRIBUTE_NOT_FOUND_ERROR)
            try:
                values.append(bytes(await attribute.read_value(bearer)))
            except att.ATT_Error as error:
                return None, att.ATT_Error_Response(
                    request_opcode_in_error=request.op_code, attribute_handle_in_error=handle,
                    error_code=error.error_code)
        return values, None

    @utils.AsyncRunner.run_in_task()
    async def on_att_read_multiple_request(self, bearer, request):
        values, refusal = await self._read_set(bearer, request)
        if refusal is not None:
            self.send_response(bearer, refusal)
            return
        room = bearer.att_mtu - 1
        body = b"".join(values)[:room]
        self.send_response(bearer, att.ATT_Read_Multiple_Response(set_of_values=body))

    @utils.AsyncRunner.run_in_task()
    async def on_att_read_multiple_variable_request(self, bearer, request):
        values, refusal = await self._read_set(bearer, request)
        if refusal is not None:
            self.send_response(bearer, refusal)
            return
        room = bearer.att_mtu - 1
        entries = []
        for value in values:
            if room <= 2:
                break
            part = value[: room - 2]
            entries.append((len(value), part))
            room -= 2 + len(part)
        self.send_response(bearer, att.ATT_Read_Multiple_Variable_Response(length_value_tuple_list=entries))


# ---- SMP ------------------------------------------------------------------------------

# Command code -> its exact length including the code (Vol 3 Part H 3.5 to 3.6).
_SMP_LENGTHS = {
    0x01: 7, 0x02: 7, 0x03: 17, 0x04: 17, 0x05: 2, 0x06: 17, 0x07: 11,
    0x08: 17, 0x09: 8, 0x0A: 17, 0x0B: 2, 0x0C: 65, 0x0D: 17, 0x0E: 2,
}
_MIN_KEY_SIZE, _MAX_KEY_SIZE = 7, 16
_MAX_IO_CAPABILITY = 0x04

# Links whose pairing timed out: no SMP command is sent or answered on them again.
_timed_out = weakref.WeakSet()
# Pairing completions still running (DurableBondSession).
_completions = set()


def smp_timed_out(connection):
    """Whether a pairing on this link timed out (Vol 3 Part H 3.4: pair again only on a new link)."""
    return connection in _timed_out


def pairing_parameters_refusal(pdu):
    """The Pairing Failed reason for a Pairing Request/Response's parameters, or None.

    Vol 3 Part H 3.5.1 and 3.5.2: IO capability 0x05 and up and OOB flag 0x02 and up are
    reserved; the key size is 7 to 16 octets. Bumble 0.0.236 takes any value and answers.
    """
    io_capability, oob_flag, key_size = pdu[1], pdu[2], pdu[4]
    if key_size < _MIN_KEY_SIZE:
        return smp.ErrorCode.ENCRYPTION_KEY_SIZE
    if io_capability > _MAX_IO_CAPABILITY or oob_flag > 1 or key_size > _MAX_KEY_SIZE:
        return smp.ErrorCode.INVALID_PARAMETERS
    return None


class _SmpCommandCheck:
    """The SMP fixed channel's handler: refuses what Bumble would parse, ignore or answer.

    Vol 3 Part H 3.3 and 3.5.5: a command that is not supported gets Pairing Failed with
    Command Not Supported, one of the wrong length Invalid Parameters, one that comes out of
    order (a Public Key on a link where no pairing started, a Pairing Response to the
    responder) Unspecified Reason. Bumble 0.0.236 raises on an unassigned code, starts a
    responder session for any command, and answers malformed Pairing Requests.
    """

    def __init__(self, device, handler):
        self.device = device
        self.handler = handler

    def __call__(self, connection_handle, pdu):
        connection = self.device.lookup_connection(connection_handle)
        if connection is None or not pdu or connection in _timed_out:
            return  # 3.4: after a timeout, no SMP command is sent on the link
        manager = self.device.smp_manager
        session = manager.sessions.get(connection_handle)
        if session is not None and session.completed:
            session = None
        reason = self._refusal(connection, session, pdu)
        if reason is None:
            self.handler(connection_handle, pdu)
        elif reason is not False:
            log.warning("refusing SMP command %s: %s", bytes(pdu[:1]).hex(), reason.name)
            if session is not None:
                session.send_pairing_failed(reason)  # also ends the pairing in progress
            else:
                manager.send_command(connection, smp.SMP_Pairing_Failed_Command(reason=reason))

    def _refusal(self, connection, session, pdu):
        """None: pass the command on; False: drop it silently; else the Pairing Failed reason."""
        code = pdu[0]
        size = _SMP_LENGTHS.get(code)
        if size is None:
            return smp.ErrorCode.COMMAND_NOT_SUPPORTED
        if len(pdu) != size:
            return smp.ErrorCode.INVALID_PARAMETERS
        central = connection.role == hci.Role.CENTRAL
        if code == smp.CommandCode.PAIRING_FAILED:
            return None if session is not None else False  # a failure is never answered
        if code == smp.CommandCode.SECURITY_REQUEST:
            return None if central else smp.ErrorCode.COMMAND_NOT_SUPPORTED
        if code == smp.CommandCode.PAIRING_REQUEST:
            if central:
                return smp.ErrorCode.COMMAND_NOT_SUPPORTED
            if session is not None:
                return smp.ErrorCode.UNSPECIFIED_REASON
            return pairing_parameters_refusal(pdu)
        if session is None:
            return smp.ErrorCode.UNSPECIFIED_REASON
        if code == smp.CommandCode.PAIRING_RESPONSE:
            if not session.is_initiator or getattr(session, "pres", None):
                return smp.ErrorCode.UNSPECIFIED_REASON
            return pairing_parameters_refusal(pdu)
        if not getattr(session, "pres", None):
            return smp.ErrorCode.UNSPECIFIED_REASON  # nothing but the response before it
        if code == smp.CommandCode.PAIRING_PUBLIC_KEY and not session.sc:
            return smp.ErrorCode.UNSPECIFIED_REASON
        return None


class DurableBondSession(smp.Session):
    """Bumble's SMP session that finishes a completed pairing even if the link then drops.

    Vol 3 Part H 2.4.1 and 3.6.1: once the last key has been distributed the pairing is
    complete, and a bonding device stores the keys. Bumble 0.0.236 runs that completion
    (the key store included) in a task the disconnection cancels, so a peer that
    disconnects as soon as it has sent its last key keeps the bond while we lose it.
    """

    def on_peer_key_distribution_complete(self):
        if self.is_initiator:
            self.distribute_keys()  # the responder's keys are in: the initiator sends its own
        task = asyncio.ensure_future(self._complete_pairing())
        _completions.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_completions.discard)

    async def _complete_pairing(self):
        try:
            await self.on_pairing()
        except Exception as exc:  # e.g. draining a link that is gone
            log.debug("pairing completion after the link dropped: %r", exc)


class TimedSession(smp.Session):
    """Bumble's SMP session with the Security Manager Timer (Vol 3 Part H 3.4).

    The timer starts when a Pairing Request is sent or received, restarts whenever a
    command is queued, and stops when the pairing ends. After 30 s the pairing has failed:
    the local side is told, and no further SMP command is sent on that link. Bumble
    0.0.236 has no timer, so a peer that goes silent keeps the session (and the link's
    pairing state) alive for the life of the link.
    """

    _timer = None

    def _restart_timer(self):
        if self._timer is not None:
            self._timer.cancel()
        timeout = getattr(self.manager.device, "smp_timeout", SMP_TIMEOUT)
        self._timer = asyncio.get_running_loop().call_later(timeout, self._on_smp_timeout)

    def _stop_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_smp_timeout(self):
        self._timer = None
        if self.completed:
            return
        log.warning("pairing timed out: the peer sent nothing for %.1f s",
                    getattr(self.manager.device, "smp_timeout", SMP_TIMEOUT))
        _timed_out.add(self.connection)
        self.on_pairing_failure(smp.ErrorCode.UNSPECIFIED_REASON)

    def send_command(self, command):
        if self.connection in _timed_out:
            return
        super().send_command(command)
        if self._timer is not None and not self.completed:
            self._restart_timer()

    def send_pairing_request_command(self):
        self._restart_timer()
        super().send_pairing_request_command()

    def on_smp_pairing_request_command(self, command):
        self._restart_timer()
        super().on_smp_pairing_request_command(command)

    def on_peer_key_distribution_complete(self):
        self._stop_timer()
        super().on_peer_key_distribution_complete()

    def on_pairing_failure(self, reason):
        self._stop_timer()
        super().on_pairing_failure(reason)

    def on_disconnection(self, reason):
        self._stop_timer()
        super().on_disconnection(reason)


# ---- L2CAP LE credit-based channels ---------------------------------------------------

_LeResult = l2cap.L2CAP_LE_Credit_Based_Connection_Response.Result
_LE_DYNAMIC_CIDS = range(l2cap.L2CAP_LE_U_DYNAMIC_CID_RANGE_START, l2cap.L2CAP_LE_U_DYNAMIC_CID_RANGE_END + 1)


def le_coc_request_refusal(request):
    """The refusal an LE Credit Based Connection Request deserves, or None.

    Vol 3 Part A 4.22 and 4.23: the source CID must be a dynamic LE CID (0x0040-0x007F),
    else Invalid Source CID; MTU and MPS must be at least 23 (MPS at most 65533), else
    Unacceptable Parameters. Bumble 0.0.236 accepts a channel whose CID is a fixed channel
    (signalling, ATT) and parameters below the minimum.
    """
    if request.source_cid not in _LE_DYNAMIC_CIDS:
        return _LeResult.CONNECTION_REFUSED_INVALID_SOURCE_CID
    if (request.mtu < l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MIN_MTU
            or not l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MIN_MPS <= request.mps
            <= l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MAX_MPS):
        return _LeResult.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS
    return None


def refuse_invalid_le_coc_request(manager, connection, signalling_cid, request, mtu, mps):
    """Send the refusal for a request that le_coc_request_refusal rejects; True if sent."""
    result = le_coc_request_refusal(request)
    if result is None:
        return False
    log.warning("refusing an L2CAP channel request: %s", result.name)
    manager.send_control_frame(connection, signalling_cid, l2cap.L2CAP_LE_Credit_Based_Connection_Response(
        identifier=request.identifier, destination_cid=0, mtu=mtu, mps=mps, initial_credits=0, result=result))
    return True


class StrictLeCreditBasedChannel(l2cap.LeCreditBasedChannel):
    """Bumble's LE credit-based channel, closed when the peer breaks flow control.

    Vol 3 Part A 10.1: a K-frame received when the peer has no credits, or longer than our
    MPS, means the channel is to be disconnected; Vol 3 Part A 4.24: so does a credit
    count that would exceed 65535. Bumble 0.0.236 logs a warning and keeps taking the data
    (memory grows without bound for a slow reader) and adds credits past 65535.
    """

    def _protocol_violation(self, what):
        log.warning("L2CAP channel 0x%04X: %s; disconnecting it", self.source_cid, what)
        self.in_sdu = None
        self.in_sdu_length = 0
        self._change_state(self.State.DISCONNECTING)
        self.flush_output()
        self.send_control_frame(l2cap.L2CAP_Disconnection_Request(
            identifier=self.manager.next_identifier(self.connection),
            destination_cid=self.destination_cid, source_cid=self.source_cid))
        asyncio.get_running_loop().call_later(L2CAP_DISCONNECT_TIMEOUT, self._disconnect_unanswered)

    def _disconnect_unanswered(self):
        if self.state == self.State.DISCONNECTING:
            self.abort()

    def on_pdu(self, pdu):
        if self.state == self.State.CONNECTED and self.sink is not None:
            if self.peer_credits <= 0:
                self._protocol_violation("K-frame received while the peer had no credits")
                return
            if len(pdu) > self.mps:
                self._protocol_violation("K-frame of %d bytes exceeds our MPS (%d)" % (len(pdu), self.mps))
                return
        super().on_pdu(pdu)

    def on_credits(self, credits):  # Bumble's name
        if self.state == self.State.CONNECTED and self.credits + credits > l2cap.L2CAP_LE_CREDIT_BASED_CONNECTION_MAX_CREDITS:
            self._protocol_violation("credit count would exceed 65535")
            return
        super().on_credits(credits)


def adopt_le_coc_channel(channel):
    """Give a channel Bumble made the flow-control checks of StrictLeCreditBasedChannel."""
    if type(channel) is l2cap.LeCreditBasedChannel:
        channel.__class__ = StrictLeCreditBasedChannel
    return channel


# ---- hooks into Bumble's internals that the port relies on ----------------------------------
# Each names the Bumble 0.0.236 attribute it touches; a Bumble upgrade checks these first.


def tap_gatt_client(client, on_notify, on_indicate, on_response):
    """Replace GattClient.on_att_handle_value_notification/_indication (Bumble's subscribers), and
    wrap GattClient.on_gatt_pdu: on_response() runs before Bumble handles each response."""
    client.on_att_handle_value_notification = on_notify
    client.on_att_handle_value_indication = on_indicate
    receive = client.on_gatt_pdu
    server_initiated = (att.Opcode.ATT_HANDLE_VALUE_NOTIFICATION, att.Opcode.ATT_HANDLE_VALUE_INDICATION)

    def on_gatt_pdu(pdu):
        if pdu.op_code & 1 and pdu.op_code not in server_initiated:
            on_response()
        receive(pdu)

    client.on_gatt_pdu = on_gatt_pdu


def allow_mtu_exchange_again(client):
    """GattClient.request_mtu does nothing once mtu_exchange_done; MicroPython exchanges again."""
    client.mtu_exchange_done = False


def cccd_value(server, connection, value_handle):
    """A client's CCCD (Server.subscribers[connection][value_handle]): 0, 1 notify, 2 indicate."""
    value = server.subscribers.get(connection, {}).get(value_handle)
    return int.from_bytes(value, "little") if value else 0


def use_random_address(device, address, static=True):
    """Device.random_address (and static_address, for our identity), read when advertising and connecting."""
    device.random_address = address
    if static:
        device.static_address = address


def use_public_address(device, address):
    """Device.public_address, read once at power-on, after a vendor command changed it."""
    device.public_address = address


def use_smp_session_class(device, session_class):
    """Bumble builds each pairing's Session with Device.smp_session_proxy."""
    device.smp_session_proxy = session_class


def set_authenticated(connection, authenticated):
    """Bumble sets Connection.authenticated for every pairing (its permission checks read it);
    MicroPython counts MITM-protected pairings only."""
    connection.authenticated = authenticated


def skip_resolving_list_refresh(device):
    """Device.refresh_resolving_list reads the whole key store after each bond; NimBLE does not."""

    async def refresh():
        pass

    device.refresh_resolving_list = refresh


def watch_missing_long_term_keys(device, on_missing):
    """Wrap Host.long_term_key_provider: on_missing(conn_handle) when a peer asks for a key we lack."""
    provider = device.host.long_term_key_provider

    async def long_term_key(handle, rand, ediv):
        ltk = await provider(handle, rand, ediv)
        if ltk is None:
            on_missing(handle)
        return ltk

    device.host.long_term_key_provider = long_term_key


def forget_smp_session(device, conn_handle, finished):
    """Drop a finished SMP Session from Manager.sessions so the next pairing starts afresh."""
    sessions = device.smp_manager.sessions
    session = sessions.get(conn_handle)
    if session is not None and finished(session):
        sessions.pop(conn_handle, None)


def intercept_le_coc_signalling(manager, on_request, on_response):
    """See LE credit-based connection requests and responses first: ChannelManager dispatches with
    getattr(self, "on_<name>"), so instance attributes win; Bumble's handler is the last argument."""
    request = manager.on_l2cap_le_credit_based_connection_request
    response = manager.on_l2cap_le_credit_based_connection_response
    manager.on_l2cap_le_credit_based_connection_request = (
        lambda connection, cid, frame: on_request(connection, cid, frame, request))
    manager.on_l2cap_le_credit_based_connection_response = (
        lambda connection, cid, frame: on_response(connection, cid, frame, response))


def le_channels_by_cid(manager, conn_handle):
    """ChannelManager.channels[conn_handle]: our CID -> channel (None marks a held CID)."""
    return manager.channels.setdefault(conn_handle, {})


def forget_le_coc_by_peer_cid(manager, channel):
    """Bumble forgets a closed channel by our CID only (ChannelManager.le_coc_channels keeps
    it by the peer's CID), so the peer could not reuse its CID: forget that one too."""
    by_peer = manager.le_coc_channels.get(channel.connection.handle, {})
    if by_peer.get(channel.destination_cid) is channel:
        del by_peer[channel.destination_cid]


def forget_le_coc_request(manager, channel):
    """A request the peer never answered: Bumble keeps the channel and the pending request
    (ChannelManager.le_coc_requests) when it is cancelled; drop both, so a late answer is ignored."""
    channel.connection_result = None
    table = manager.channels.get(channel.connection.handle, {})
    if table.get(channel.source_cid) is channel:
        del table[channel.source_cid]
    for identifier, request in list(manager.le_coc_requests.items()):
        if request.source_cid == channel.source_cid and request.le_psm == channel.psm:
            del manager.le_coc_requests[identifier]


def tap_le_coc_channel(channel, on_credits, on_stuck_in_sdu):
    """Own a channel's credits (peer_credits_threshold -1: Bumble never tops the peer up); on_credits after
    on_credits, on_stuck_in_sdu after an on_pdu that leaves the peer no credits mid-SDU (in_sdu)."""
    channel.peer_credits_threshold = -1
    credits_handler = channel.on_credits
    pdu_handler = channel.on_pdu

    def credits_arrived(count):
        credits_handler(count)
        on_credits(count)

    def pdu_arrived(pdu):
        pdu_handler(pdu)
        if channel.peer_credits == 0 and channel.in_sdu is not None:
            on_stuck_in_sdu()

    channel.on_credits = credits_arrived
    channel.on_pdu = pdu_arrived


def pending_le_coc_request(manager, identifier):
    """Our LE credit-based connection request a response answers (ChannelManager.le_coc_requests)."""
    return manager.le_coc_requests.get(identifier)


def peer_credits(channel):
    """How many PDUs the peer may still send us (LeCreditBasedChannel.peer_credits)."""
    return channel.peer_credits


def give_credits(manager, channel, count):
    """Send the peer `count` credits and count them as Bumble would (peer_credits)."""
    channel.send_control_frame(l2cap.L2CAP_LE_Flow_Control_Credit(
        identifier=manager.next_identifier(channel.connection), cid=channel.source_cid, credits=count))
    channel.peer_credits += count


def credits_to_finish_sdu(channel, min_mps):
    """PDUs of min_mps octets the peer needs to finish its SDU (in_sdu: length field + data so far)."""
    received = channel.in_sdu
    if received is None or len(received) < 2:
        return 1
    return max(1, -(-(channel.in_sdu_length + 2 - len(received)) // min_mps))
