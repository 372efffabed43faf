"""Link-layer procedures that change a connection's timing: connection update, data length, PHY.

Bumble's controller answers LE Connection Update at once and ignores data
length and PHY; a host then sees its new parameters before the link uses
them, and every link runs at 1M with 27-octet PDUs whatever it asked.
Here each procedure goes over the air as the Link Layer spec has it
(Vol 6, Part B, 5.1): LL control PDUs between the two controllers, and the
change takes effect at an instant some connection events later, where both
hosts get their LE ... Complete / Change event with the values in force.

* Connection update (5.1.1): the central picks the interval (the maximum of
  the host's range, as NimBLE's controller does) and sends
  LL_CONNECTION_UPDATE_IND with an instant latency + 7 events ahead.  A
  peripheral's host asking LE Connection Update makes its controller send
  LL_CONNECTION_PARAM_REQ (5.1.7); the central's controller accepts it
  without asking its host, as controllers do when the host left the
  Remote Connection Parameter Request event masked.
* Data length update (5.1.9): LE Set Data Length sends LL_LENGTH_REQ with
  the sender's maximums; the peer answers LL_LENGTH_RSP with its own (its
  host's suggested default for transmit); each side then uses the smaller
  of what one sends and the other receives.  Links start at 27 octets.
* PHY update (5.1.10): LE Set PHY sends LL_PHY_REQ (or, from the central,
  leads to LL_PHY_UPDATE_IND after the peer's LL_PHY_RSP); the central
  picks per direction a PHY both sides accept (2M first, then 1M, then
  Coded) and the change happens at the instant.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from bumble import hci, ll

from bleboard.radio import timing
from bleboard.radio.link import ConnectionTiming

E = hci.HCI_ErrorCode
_Op = ll.ControlPdu.Opcode

_PROCEDURE_COLLISION = E.LMP_ERROR_TRANSACTION_COLLISION_OR_LL_PROCEDURE_COLLISION_ERROR  # 0x23
_ALL_PHYS = 0b111  # 1M, 2M, Coded as PHY bits
_PHY_BIT_TO_PHY = ((0b010, timing.LE_2M), (0b001, timing.LE_1M), (0b100, timing.LE_CODED))


# ---------------------------------------------------------------- LL control PDUs (Vol 6, Part B, 2.4.2)
@dataclasses.dataclass
class ConnectionUpdateAt(ll.ControlPdu):
    """LL_CONNECTION_UPDATE_IND with its instant (Bumble's has none)."""

    opcode: ClassVar = _Op.LL_CONNECTION_UPDATE_IND
    interval: int
    latency: int
    timeout: int
    instant: int


@dataclasses.dataclass
class ConnectionParamReq(ll.ControlPdu):
    opcode: ClassVar = _Op.LL_CONNECTION_PARAM_REQ
    interval_min: int
    interval_max: int
    latency: int
    timeout: int
    max_ce_length: int = 0


@dataclasses.dataclass
class LengthReq(ll.ControlPdu):
    opcode: ClassVar = _Op.LL_LENGTH_REQ
    max_rx_octets: int
    max_rx_time: int
    max_tx_octets: int
    max_tx_time: int


@dataclasses.dataclass
class LengthRsp(LengthReq):
    opcode: ClassVar = _Op.LL_LENGTH_RSP


@dataclasses.dataclass
class PhyReq(ll.ControlPdu):
    opcode: ClassVar = _Op.LL_PHY_REQ
    tx_phys: int
    rx_phys: int


@dataclasses.dataclass
class PhyRsp(PhyReq):
    opcode: ClassVar = _Op.LL_PHY_RSP


@dataclasses.dataclass
class PhyUpdateInd(ll.ControlPdu):
    """LL_PHY_UPDATE_IND; `coding` stands for the S=2/S=8 choice a coded transmitter makes per packet."""

    opcode: ClassVar = _Op.LL_PHY_UPDATE_IND
    central_to_peripheral: int  # a PHY (1, 2, 3) or 0 for "unchanged"
    peripheral_to_central: int
    instant: int
    coding: int = timing.CODED_S8


class LinkState:
    """Per-connection state of the procedures, kept on each end (`AirConnection.link_state`)."""

    def __init__(self, suggested_tx_octets: int = timing.MIN_OCTETS,
                 suggested_tx_time: int = timing.MIN_TIME_UNCODED_US):
        self.local_tx = (suggested_tx_octets, suggested_tx_time)  # connMaxTxOctets/Time
        # What the peer announced: (max_rx_octets, max_rx_time, max_tx_octets, max_tx_time).
        self.remote = (timing.MIN_OCTETS, timing.MIN_TIME_UNCODED_US, timing.MIN_OCTETS, timing.MIN_TIME_UNCODED_US)
        self.reported = (timing.MIN_OCTETS, timing.MIN_TIME_UNCODED_US, timing.MIN_OCTETS, timing.MIN_TIME_UNCODED_US)
        self.update_requested = False  # our host asked for the connection update in progress
        self.update_pending = False
        self.phy_request: tuple[int, int, int] | None = None  # (tx_phys, rx_phys, coding) our host asked for
        self.phy_pending = False


def _pick_phy(allowed: int) -> int:
    for bit, phy in _PHY_BIT_TO_PHY:
        if allowed & bit:
            return phy
    return 0


def _coding_from_options(phy_options: int) -> int:
    return timing.CODED_S2 if phy_options & 0b11 == 1 else timing.CODED_S8


class ConnectionProcedures:
    """Mixin for VirtualController: LE Connection Update, LE Set Data Length, LE Set/Read PHY."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Bumble lists LE Set PHY but has no handler for it; this mixin has one.
        self.supported_commands = set(self.supported_commands) | {hci.HCI_LE_SET_PHY_COMMAND}

    # ---------------------------------------------------------------- connection update
    def on_hci_le_connection_update_command(self, command: hci.HCI_LE_Connection_Update_Command) -> None:
        from bleboard.radio.controller import connection_parameters_error

        connection = self._air_connection(command.connection_handle)
        if connection is None:
            self._send_hci_command_status(E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, command.op_code)
            return None
        error = connection_parameters_error(
            command.connection_interval_min, command.connection_interval_max,
            command.max_latency, command.supervision_timeout,
        )
        if error is None and command.min_ce_length > command.max_ce_length:
            error = E.INVALID_COMMAND_PARAMETERS_ERROR
        if error is not None:
            self._send_hci_command_status(error, command.op_code)
            return None
        state = connection.link_state
        if state.update_pending or connection.terminating:
            self._send_hci_command_status(E.COMMAND_DISALLOWED_ERROR, command.op_code)
            return None
        self._send_hci_command_status(hci.HCI_COMMAND_STATUS_PENDING, command.op_code)
        state.update_requested = True
        if connection.role == hci.Role.CENTRAL:
            self._start_connection_update(
                connection, command.connection_interval_min, command.connection_interval_max,
                command.max_latency, command.supervision_timeout, command.max_ce_length,
            )
        else:
            state.update_pending = True
            connection.send_ll_control_pdu(ConnectionParamReq(
                command.connection_interval_min, command.connection_interval_max,
                command.max_latency, command.supervision_timeout, command.max_ce_length,
            ))
        return None

    def _start_connection_update(self, central, interval_min, interval_max, latency, timeout, max_ce_length) -> None:
        """Central side: choose the parameters, send LL_CONNECTION_UPDATE_IND, switch at the instant."""
        channel = central.channel
        if channel is None or not channel.open:
            return
        new = ConnectionTiming(timing.choose_interval(interval_min, interval_max), latency, timeout, max_ce_length)
        instant = timing.update_instant(channel.next_counter(), channel.parameters.latency)
        peripheral = channel.peer_of(central)
        for end in (central, peripheral):
            end.link_state.update_pending = True
        central.send_ll_control_pdu(ConnectionUpdateAt(new.interval, new.latency, new.timeout, instant))
        channel.at_instant(instant, lambda: self._connection_update_instant(channel, new))

    def _connection_update_instant(self, channel, new: ConnectionTiming) -> None:
        old = channel.parameters
        changed = (old.interval, old.latency, old.timeout) != (new.interval, new.latency, new.timeout)
        channel.apply_timing(new)
        for end in channel.ends:
            state = end.link_state
            end.interval, end.latency, end.timeout = new.interval, new.latency, new.timeout
            report = changed or state.update_requested
            state.update_pending = state.update_requested = False
            if report:
                end.controller.send_hci_packet(hci.HCI_LE_Connection_Update_Complete_Event(
                    status=E.SUCCESS, connection_handle=end.handle, connection_interval=new.interval,
                    peripheral_latency=new.latency, supervision_timeout=new.timeout,
                ))

    # ---------------------------------------------------------------- data length
    def on_hci_le_set_data_length_command(self, command: hci.HCI_LE_Set_Data_Length_Command):
        connection = self._air_connection(command.connection_handle)
        if connection is None:
            return hci.HCI_StatusAndConnectionHandleReturnParameters(
                status=E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=command.connection_handle
            )
        if not (timing.MIN_OCTETS <= command.tx_octets <= timing.MAX_OCTETS
                and timing.MIN_TIME_UNCODED_US <= command.tx_time <= timing.MAX_TIME_US):
            return hci.HCI_StatusAndConnectionHandleReturnParameters(
                status=E.INVALID_COMMAND_PARAMETERS_ERROR, connection_handle=command.connection_handle
            )
        state = connection.link_state
        state.local_tx = (min(command.tx_octets, self.supported_max_tx_octets),
                          min(command.tx_time, self.supported_max_tx_time))
        connection.send_ll_control_pdu(LengthReq(
            self.supported_max_rx_octets, self.supported_max_rx_time, *state.local_tx
        ))
        return hci.HCI_StatusAndConnectionHandleReturnParameters(
            status=E.SUCCESS, connection_handle=command.connection_handle
        )

    def _data_length_values(self, connection) -> tuple[int, int, int, int]:
        """(max_tx_octets, max_tx_time, max_rx_octets, max_rx_time) in effect, as LE Data Length Change has them."""
        state = connection.link_state
        remote_rx_octets, remote_rx_time, remote_tx_octets, remote_tx_time = state.remote
        return (
            min(state.local_tx[0], remote_rx_octets), min(state.local_tx[1], remote_rx_time),
            min(self.supported_max_rx_octets, remote_tx_octets), min(self.supported_max_rx_time, remote_tx_time),
        )

    def _apply_data_length(self, connection) -> None:
        """Use the new maximums for our transmit direction; tell our host if they changed."""
        values = self._data_length_values(connection)
        channel = connection.channel
        if channel is not None:
            channel.max_tx_octets[connection.side] = timing.effective_max_octets(
                values[0], values[1], values[0], values[1], channel.phy[connection.side], channel.coding
            )
        state = connection.link_state
        if values != state.reported:
            state.reported = values
            self.send_hci_packet(hci.HCI_LE_Data_Length_Change_Event(
                connection_handle=connection.handle, max_tx_octets=values[0], max_tx_time=values[1],
                max_rx_octets=values[2], max_rx_time=values[3],
            ))

    # ---------------------------------------------------------------- PHY
    def on_hci_le_set_phy_command(self, command: hci.HCI_LE_Set_PHY_Command) -> None:
        connection = self._air_connection(command.connection_handle)
        if connection is None:
            self._send_hci_command_status(E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, command.op_code)
            return None
        tx_phys = _ALL_PHYS if command.all_phys & 1 else int(command.tx_phys)
        rx_phys = _ALL_PHYS if command.all_phys & 2 else int(command.rx_phys)
        if not tx_phys or not rx_phys:
            self._send_hci_command_status(E.INVALID_COMMAND_PARAMETERS_ERROR, command.op_code)
            return None
        if (tx_phys | rx_phys) & ~_ALL_PHYS:
            self._send_hci_command_status(E.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE_ERROR, command.op_code)
            return None
        state = connection.link_state
        if state.phy_pending or connection.terminating:
            self._send_hci_command_status(E.COMMAND_DISALLOWED_ERROR, command.op_code)
            return None
        self._send_hci_command_status(hci.HCI_COMMAND_STATUS_PENDING, command.op_code)
        state.phy_request = (tx_phys, rx_phys, _coding_from_options(command.phy_options))
        state.phy_pending = True
        connection.send_ll_control_pdu(PhyReq(tx_phys, rx_phys))
        return None

    def on_hci_le_read_phy_command(self, command: hci.HCI_LE_Read_PHY_Command):
        connection = self._air_connection(command.connection_handle)
        if connection is None or connection.channel is None:
            return hci.HCI_LE_Read_PHY_ReturnParameters(
                status=E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=command.connection_handle,
                tx_phy=0, rx_phy=0,
            )
        phy = connection.channel.phy
        return hci.HCI_LE_Read_PHY_ReturnParameters(
            status=E.SUCCESS, connection_handle=command.connection_handle,
            tx_phy=phy[connection.side], rx_phy=phy[1 - connection.side],
        )

    def _phy_preferences(self, connection) -> tuple[int, int]:
        """(tx_phys, rx_phys) this side accepts: its host's request, else its default PHY settings."""
        if connection.link_state.phy_request is not None:
            return connection.link_state.phy_request[:2]
        default = self.default_phy
        tx = _ALL_PHYS if default.get("all_phys", 0) & 1 or not default.get("tx_phys") else default["tx_phys"]
        rx = _ALL_PHYS if default.get("all_phys", 0) & 2 or not default.get("rx_phys") else default["rx_phys"]
        return tx, rx

    def _decide_phy(self, central, peripheral_tx: int, peripheral_rx: int) -> None:
        """Central side: pick each direction's PHY and send LL_PHY_UPDATE_IND."""
        channel = central.channel
        if channel is None or not channel.open:
            return
        central_tx, central_rx = self._phy_preferences(central)
        c_to_p = _pick_phy(central_tx & peripheral_rx) or channel.phy[0]
        p_to_c = _pick_phy(peripheral_tx & central_rx) or channel.phy[1]
        peripheral = channel.peer_of(central)
        request = central.link_state.phy_request or peripheral.link_state.phy_request
        coding = request[2] if request else timing.CODED_S8
        changed = (c_to_p, p_to_c) != tuple(channel.phy)
        if not changed:
            central.send_ll_control_pdu(PhyUpdateInd(0, 0, 0, coding))
            self._phy_update_done(channel, changed=False)
            return
        instant = timing.update_instant(channel.next_counter(), channel.parameters.latency)
        central.send_ll_control_pdu(PhyUpdateInd(c_to_p, p_to_c, instant, coding))
        channel.at_instant(instant, lambda: self._phy_instant(channel, c_to_p, p_to_c, coding))

    def _phy_instant(self, channel, c_to_p: int, p_to_c: int, coding: int) -> None:
        channel.phy[0], channel.phy[1] = c_to_p, p_to_c
        channel.coding = coding
        for end in channel.ends:
            if end.controller.le_connections.get(end.peer_address) is end:
                end.controller._apply_data_length(end)  # the time limits depend on the PHY
        self._phy_update_done(channel, changed=True)

    def _phy_update_done(self, channel, changed: bool) -> None:
        """LE PHY Update Complete to both hosts if the PHYs changed, else to the host that asked."""
        for end in channel.ends:
            state = end.link_state
            report = changed or state.phy_request is not None
            state.phy_request = None
            state.phy_pending = False
            if report and end.controller.le_connections.get(end.peer_address) is end:
                end.controller.send_hci_packet(hci.HCI_LE_PHY_Update_Complete_Event(
                    status=E.SUCCESS, connection_handle=end.handle,
                    tx_phy=channel.phy[end.side], rx_phy=channel.phy[1 - end.side],
                ))

    # ---------------------------------------------------------------- encryption
    def on_le_encryption_change(self, connection, status: int) -> None:
        channel = getattr(connection, "channel", None)
        if channel is not None and status == E.SUCCESS:
            channel.encrypted = True  # every non-empty PDU carries a MIC from now on
        super().on_le_encryption_change(connection, status)

    # ---------------------------------------------------------------- LL control PDUs from the peer
    def on_ll_control_pdu(self, sender_address: hci.Address, packet: ll.ControlPdu) -> None:
        connection = self.le_connections.get(sender_address)
        if connection is None or not hasattr(connection, "link_state"):
            return super().on_ll_control_pdu(sender_address, packet)
        state = connection.link_state
        if isinstance(packet, ConnectionParamReq):
            if connection.role == hci.Role.CENTRAL and not state.update_pending:
                self._start_connection_update(
                    connection, packet.interval_min, packet.interval_max, packet.latency, packet.timeout,
                    packet.max_ce_length,
                )
            else:  # an update of its own is under way: the central refuses (Vol 6, Part B, 5.3)
                connection.send_ll_control_pdu(ll.RejectExtInd(
                    reject_opcode=_Op.LL_CONNECTION_PARAM_REQ, error_code=_PROCEDURE_COLLISION
                ))
        elif isinstance(packet, ll.RejectExtInd) and packet.reject_opcode == _Op.LL_PHY_REQ:
            state.phy_request = None  # the central's procedure, already under way, reports as usual
            phy = connection.channel.phy if connection.channel is not None else (timing.LE_1M, timing.LE_1M)
            self.send_hci_packet(hci.HCI_LE_PHY_Update_Complete_Event(
                status=packet.error_code, connection_handle=connection.handle,
                tx_phy=phy[connection.side], rx_phy=phy[1 - connection.side],
            ))
        elif isinstance(packet, ll.RejectExtInd) and packet.reject_opcode == _Op.LL_CONNECTION_PARAM_REQ:
            state.update_pending = state.update_requested = False
            self.send_hci_packet(hci.HCI_LE_Connection_Update_Complete_Event(
                status=packet.error_code, connection_handle=connection.handle,
                connection_interval=connection.interval, peripheral_latency=connection.latency,
                supervision_timeout=connection.timeout,
            ))
        elif isinstance(packet, ConnectionUpdateAt):
            pass  # the switch itself happens at the instant, registered on the shared channel
        elif isinstance(packet, LengthRsp):
            state.remote = (packet.max_rx_octets, packet.max_rx_time, packet.max_tx_octets, packet.max_tx_time)
            self._apply_data_length(connection)
        elif isinstance(packet, LengthReq):
            state.remote = (packet.max_rx_octets, packet.max_rx_time, packet.max_tx_octets, packet.max_tx_time)
            connection.send_ll_control_pdu(LengthRsp(
                self.supported_max_rx_octets, self.supported_max_rx_time, *state.local_tx
            ))
            self._apply_data_length(connection)
        elif isinstance(packet, PhyRsp):
            if connection.role == hci.Role.CENTRAL:
                self._decide_phy(connection, packet.tx_phys, packet.rx_phys)
        elif isinstance(packet, PhyReq):
            if connection.role == hci.Role.CENTRAL and state.phy_pending:
                # Both asked at once: the central's procedure goes on, the peripheral's is refused.
                connection.send_ll_control_pdu(ll.RejectExtInd(
                    reject_opcode=_Op.LL_PHY_REQ, error_code=_PROCEDURE_COLLISION
                ))
            elif connection.role == hci.Role.CENTRAL:
                self._decide_phy(connection, packet.tx_phys, packet.rx_phys)
            else:
                state.phy_pending = True
                connection.send_ll_control_pdu(PhyRsp(*self._phy_preferences(connection)))
        elif isinstance(packet, PhyUpdateInd):
            pass  # applied at the instant on the shared channel (or already done, when nothing changed)
        else:
            return super().on_ll_control_pdu(sender_address, packet)
        return None

    def _air_connection(self, handle: int):
        connection = self.find_le_connection_by_handle(handle)
        return connection if hasattr(connection, "link_state") else None
