"""A Bumble controller that behaves like a board's controller on the virtual air.

Bumble's Controller is a fine HCI command decoder but a toy radio: every
advertisement goes out as ADV_IND, every scanner gets a fake scan response,
LE Create Connection Cancel leaves the host waiting forever and ACL data
arrives with no delay.  `VirtualController` keeps Bumble's command handling
and replaces the radio behaviour (see advertising.py, scanning.py, link.py)
and the command checks a host relies on: status codes for bad parameters,
pending and cancelled connections, termination acknowledged by the peer,
and flow control credits returned when the peer has received the data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from bumble import controller as bumble_controller
from bumble import hci, ll
from bumble.core import PhysicalTransport

from bleboard.radio import pdus, timing
from bleboard.radio.advertising import AirAdvertisingSet, LegacyAirAdvertiser, own_address
from bleboard.radio.connection_procedures import ConnectionProcedures, LinkState
from bleboard.radio.controller_commands import AdvertisingCommands
from bleboard.radio.crypto_commands import CryptoCommands
from bleboard.radio.hci_dispatch import CommandDispatch
from bleboard.radio.vendor import VendorCommands
from bleboard.radio.link import AirLink, ConnectionTiming, DataChannel
from bleboard.radio.scanning import Scanner

logger = logging.getLogger(__name__)

E = hci.HCI_ErrorCode
_ENHANCED_CONNECTION_COMPLETE_MASK = 1 << (hci.HCI_LE_ENHANCED_CONNECTION_COMPLETE_EVENT - 1)
_DEFAULT_LE_EVENT_MASK = 0x1F  # Vol 4, Part E, 7.8.1: the first five LE events
# Reasons the host may give to HCI_Disconnect (Vol 4, Part E, 7.1.6).
_DISCONNECT_REASONS = {0x05, 0x13, 0x14, 0x15, 0x1A, 0x29, 0x3B}

_EXTENDED_COMMANDS = frozenset(
    {
        hci.HCI_LE_SET_ADVERTISING_SET_RANDOM_ADDRESS_COMMAND,
        hci.HCI_LE_SET_EXTENDED_ADVERTISING_PARAMETERS_COMMAND,
        hci.HCI_LE_SET_EXTENDED_ADVERTISING_DATA_COMMAND,
        hci.HCI_LE_SET_EXTENDED_SCAN_RESPONSE_DATA_COMMAND,
        hci.HCI_LE_SET_EXTENDED_ADVERTISING_ENABLE_COMMAND,
        hci.HCI_LE_READ_MAXIMUM_ADVERTISING_DATA_LENGTH_COMMAND,
        hci.HCI_LE_READ_NUMBER_OF_SUPPORTED_ADVERTISING_SETS_COMMAND,
        hci.HCI_LE_REMOVE_ADVERTISING_SET_COMMAND,
        hci.HCI_LE_CLEAR_ADVERTISING_SETS_COMMAND,
        hci.HCI_LE_SET_EXTENDED_SCAN_PARAMETERS_COMMAND,
        hci.HCI_LE_SET_EXTENDED_SCAN_ENABLE_COMMAND,
        hci.HCI_LE_EXTENDED_CREATE_CONNECTION_COMMAND,
    }
)


@dataclasses.dataclass(eq=False)
class AirConnection(bumble_controller.Connection):
    """One end of an LE connection; its PDUs travel through the link's data channel."""

    channel: DataChannel | None = None
    side: int = 0
    terminating: bool = False
    interval: int = 0
    latency: int = 0
    timeout: int = 0
    link_state: LinkState = dataclasses.field(default_factory=LinkState)

    def attach_channel(self, channel: DataChannel, side: int) -> None:
        self.channel, self.side = channel, side

    def on_hci_acl_data_packet(self, packet: hci.HCI_AclDataPacket) -> None:
        # Split into LL data PDUs of the link's data length; the credit comes back when the peer got them all.
        if self.channel is not None:
            self.channel.send_acl(self, packet.pb_flag != 0b01, bytes(packet.data))

    def send_ll_control_pdu(self, packet: ll.ControlPdu) -> bool:  # type: ignore[override]
        return self.channel is not None and self.channel.send(self, packet)


def _status(code: int) -> hci.HCI_StatusReturnParameters:
    return hci.HCI_StatusReturnParameters(code)


def connection_parameters_error(interval_min: int, interval_max: int, latency: int, timeout: int) -> int | None:
    """INVALID_HCI_COMMAND_PARAMETERS when connection parameters break Vol 4, Part E, 7.8.12."""
    if not 6 <= interval_min <= interval_max <= 3200:
        return E.INVALID_COMMAND_PARAMETERS_ERROR
    if latency > 499 or not 10 <= timeout <= 3200:
        return E.INVALID_COMMAND_PARAMETERS_ERROR
    # The supervision timeout (10 ms units) must outlast (1 + latency) intervals twice.
    if timeout * 8 <= (1 + latency) * interval_max * 2:
        return E.INVALID_COMMAND_PARAMETERS_ERROR
    return None


class VirtualController(
    ConnectionProcedures,
    VendorCommands, CryptoCommands, AdvertisingCommands, CommandDispatch, bumble_controller.Controller
):
    """A controller on an `AirLink`, one per virtual board."""

    rssi: int = -50  # what every receiver measures on the virtual air, in dBm
    default_tx_power: int = 0
    min_tx_power: int = -20
    max_tx_power: int = 10
    # Data Length Extension sizes, so HCI fragments (and throughput) are those of a modern board.
    le_acl_data_packet_length: int = 251
    # Enough buffers for a whole connection event at 50 ms on 2M with 251-octet PDUs (35), so the
    # host's refill between events, not the buffer count, is what paces a bulk transfer.
    total_num_le_acl_data_packets: int = 64
    supported_max_tx_octets: int = 251
    supported_max_tx_time: int = 17040  # 251 octets and a MIC on the Coded PHY (S=8)
    supported_max_rx_octets: int = 251
    supported_max_rx_time: int = 17040
    # Bumble lists commands it has no handler for; a host must only see what we answer.
    supported_commands = {
        op
        for op in set(bumble_controller.Controller.supported_commands) | _EXTENDED_COMMANDS
        if hasattr(bumble_controller.Controller, "on_" + hci.HCI_Command.command_name(op).lower())
        or op in (hci.HCI_READ_RSSI_COMMAND, hci.HCI_LE_SET_DATA_LENGTH_COMMAND, hci.HCI_LE_ENCRYPT_COMMAND)
    }
    # Connections use the 1M, 2M and Coded PHYs (advertising stays on 1M); no periodic advertising.
    le_features = bumble_controller.Controller.le_features & ~hci.LeFeatureMask.LE_PERIODIC_ADVERTISING

    def __init__(
        self,
        name: str,
        link: AirLink,
        public_address: hci.Address | str | None = None,
        extended_advertising: bool = True,
    ) -> None:
        if public_address is None:
            public_address = link.allocate_public_address()
        super().__init__(name, link=link, public_address=public_address)
        self.link: AirLink = link
        self.le_legacy_advertiser = LegacyAirAdvertiser(self)
        self.scanner = Scanner(self)
        self.le_event_mask = _DEFAULT_LE_EVENT_MASK
        self.filter_accept_list: set[tuple[bytes, bool]] = set()
        self.removed = False
        if not extended_advertising:
            self.le_features = self.le_features & ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
            self.supported_commands = set(self.supported_commands) - _EXTENDED_COMMANDS

    def __repr__(self) -> str:
        return f"VirtualController({self.name!r}, {self.public_address})"

    def rssi_for(self, _address: hci.Address) -> int:
        return self.rssi

    # ---------------------------------------------------------------- lifecycle
    def on_removed_from_air(self) -> None:
        """The host went away: peers see supervision timeouts, nothing more goes out."""
        self.removed = True
        self._stop_radio_activity(peer_reason=E.CONNECTION_TIMEOUT_ERROR)
        self.host = None
        if not self.terminated.done():
            self.terminated.set_result(None)

    def _stop_radio_activity(self, peer_reason: int) -> None:
        for connection in list(self.le_connections.values()):
            self._drop_connection(connection, peer_reason)
        self.le_legacy_advertiser.stop()
        for advertising_set in self.advertising_sets.values():
            advertising_set.stop()
        self.scanner.reset()
        self.le_scan_enable = False
        self.pending_le_connection = None

    def _drop_connection(self, connection, peer_reason: int) -> None:
        """Forget a connection without telling our host; the peer's link ends after its supervision timeout."""
        self.le_connections.pop(connection.peer_address, None)
        channel = getattr(connection, "channel", None)
        if channel is not None and channel.open:
            channel.vanish(connection, peer_reason)

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if not self.removed:
            super().send_hci_packet(packet)

    def on_hci_reset_command(self, _command: hci.HCI_Reset_Command) -> hci.HCI_StatusReturnParameters:
        self._stop_radio_activity(peer_reason=E.CONNECTION_TIMEOUT_ERROR)
        self.le_legacy_advertiser = LegacyAirAdvertiser(self)
        self.advertising_sets.clear()
        self.filter_accept_list.clear()
        self._random_address = hci.Address.ANY
        self.le_event_mask = _DEFAULT_LE_EVENT_MASK
        return _status(E.SUCCESS)

    # ---------------------------------------------------------------- events to the host
    def send_le_connection_complete(
        self,
        status: int,
        role: int,
        handle: int = 0,
        peer_address: hci.Address = hci.Address.ANY,
        interval: int = 0,
        latency: int = 0,
        timeout: int = 0,
        clock_accuracy: int = 0,
    ) -> None:
        """LE (Enhanced) Connection Complete: the enhanced one when the host unmasked it, as the spec says."""
        fields = dict(
            status=status,
            connection_handle=handle,
            role=role,
            peer_address_type=(
                hci.Address.PUBLIC_DEVICE_ADDRESS if peer_address.is_public else hci.Address.RANDOM_DEVICE_ADDRESS
            ),
            peer_address=peer_address,
            connection_interval=interval,
            peripheral_latency=latency,
            supervision_timeout=timeout,
            central_clock_accuracy=clock_accuracy,
        )
        if self.le_event_mask & _ENHANCED_CONNECTION_COMPLETE_MASK:
            event = hci.HCI_LE_Enhanced_Connection_Complete_Event(
                local_resolvable_private_address=hci.Address.ANY,
                peer_resolvable_private_address=hci.Address.ANY,
                **fields,
            )
        else:
            event = hci.HCI_LE_Connection_Complete_Event(**fields)
        self.send_hci_packet(event)

    def on_directed_advertising_timeout(self) -> None:
        self.send_le_connection_complete(E.ADVERTISING_TIMEOUT_ERROR, role=hci.Role.PERIPHERAL)

    # ---------------------------------------------------------------- scanning
    def on_hci_le_set_scan_parameters_command(self, command):
        if self.scanner.enabled:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        if (
            command.le_scan_type > 1
            or not 4 <= command.le_scan_window <= command.le_scan_interval <= 0x4000
            or command.own_address_type > 3
        ):
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        self.scanner.set_parameters(
            active=command.le_scan_type == 1, own_address_type=command.own_address_type,
            interval=command.le_scan_interval, window=command.le_scan_window,
        )
        return super().on_hci_le_set_scan_parameters_command(command)

    def on_hci_le_set_extended_scan_parameters_command(self, command):
        if self.scanner.enabled:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        if not command.scan_types or command.own_address_type > 3 or any(t > 1 for t in command.scan_types):
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        for interval, window in zip(command.scan_intervals, command.scan_windows):
            if not 4 <= window <= interval:
                return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        self.scanner.set_parameters(
            active=command.scan_types[0] == 1, own_address_type=command.own_address_type,
            interval=command.scan_intervals[0], window=command.scan_windows[0],
        )
        return super().on_hci_le_set_extended_scan_parameters_command(command)

    def _enable_scan(self, enable: bool, extended: bool, filter_duplicates: int):
        if enable and self.scanner.active and self._needs_missing_random_address(self.scanner.own_address_type):
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        self.scanner.enable(enable, extended=extended, filter_duplicates=bool(filter_duplicates))
        self.le_scan_enable = enable
        return _status(E.SUCCESS)

    def on_hci_le_set_scan_enable_command(self, command):
        return self._enable_scan(bool(command.le_scan_enable), False, command.filter_duplicates)

    def on_hci_le_set_extended_scan_enable_command(self, command):
        return self._enable_scan(bool(command.enable), True, command.filter_duplicates)

    def _needs_missing_random_address(self, own_address_type: int) -> bool:
        return own_address_type in (hci.OwnAddressType.RANDOM, hci.OwnAddressType.RESOLVABLE_OR_RANDOM) and (
            self.random_address.address_bytes == hci.Address.ANY.address_bytes
        )

    # ---------------------------------------------------------------- filter accept list
    def on_hci_le_clear_filter_accept_list_command(self, _command):
        self.filter_accept_list.clear()
        return _status(E.SUCCESS)

    def on_hci_le_add_device_to_filter_accept_list_command(self, command):
        if len(self.filter_accept_list) >= self.filter_accept_list_size:
            return _status(E.MEMORY_CAPACITY_EXCEEDED_ERROR)
        self.filter_accept_list.add((bytes(command.address), command.address_type in (0, 2)))
        return _status(E.SUCCESS)

    def on_hci_le_remove_device_from_filter_accept_list_command(self, command):
        self.filter_accept_list.discard((bytes(command.address), command.address_type in (0, 2)))
        return _status(E.SUCCESS)

    # ---------------------------------------------------------------- initiating
    def on_hci_le_create_connection_command(self, command) -> None:
        error = self._create_connection_error(
            command,
            command.connection_interval_min,
            command.connection_interval_max,
            command.max_latency,
            command.supervision_timeout,
        )
        if error is not None:
            self._send_hci_command_status(error, command.op_code)
            return None
        return super().on_hci_le_create_connection_command(command)

    def on_hci_le_extended_create_connection_command(self, command) -> None:
        if not command.initiating_phys & 1:  # this air only has the 1M PHY
            self._send_hci_command_status(E.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE_ERROR, command.op_code)
            return None
        error = self._create_connection_error(
            command,
            command.connection_interval_mins[0],
            command.connection_interval_maxs[0],
            command.max_latencies[0],
            command.supervision_timeouts[0],
        )
        if error is not None:
            self._send_hci_command_status(error, command.op_code)
            return None
        return super().on_hci_le_extended_create_connection_command(command)

    def _create_connection_error(self, command, interval_min, interval_max, latency, timeout) -> int | None:
        if self.pending_le_connection is not None:
            return E.COMMAND_DISALLOWED_ERROR
        if command.initiator_filter_policy not in (0, 1) or command.own_address_type > 3:
            return E.INVALID_COMMAND_PARAMETERS_ERROR
        if self._needs_missing_random_address(command.own_address_type):
            return E.INVALID_COMMAND_PARAMETERS_ERROR
        if command.initiator_filter_policy == 0 and command.peer_address in self.le_connections:
            return E.CONNECTION_ALREADY_EXISTS_ERROR
        return connection_parameters_error(interval_min, interval_max, latency, timeout)

    def on_hci_le_create_connection_cancel_command(self, _command):
        pending = self.pending_le_connection
        if pending is None:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        # The attempt ends with a connection complete event carrying
        # UNKNOWN_CONNECTION_IDENTIFIER, after this command's Command Complete.
        asyncio.get_running_loop().call_soon(
            lambda: self.send_le_connection_complete(
                E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                role=hci.Role.CENTRAL,
                peer_address=pending.peer_address,
            )
        )
        return _status(E.SUCCESS)

    def on_air_advertising(self, pdu: pdus.AdvertisingPdu) -> None:
        """An advertising PDU heard on the air: report it, maybe connect to it."""
        self.scanner.on_advertising_pdu(pdu)
        if self.pending_le_connection is not None:
            self._initiate(pdu)

    def _initiate(self, pdu: pdus.AdvertisingPdu) -> None:
        pending = self.pending_le_connection
        # The controller picks the interval within the host's range (timing.choose_interval).
        if isinstance(pending, hci.HCI_LE_Extended_Create_Connection_Command):
            interval = timing.choose_interval(pending.connection_interval_mins[0], pending.connection_interval_maxs[0])
            latency = pending.max_latencies[0]
            timeout = pending.supervision_timeouts[0]
            max_ce_length = pending.max_ce_lengths[0]
        else:
            if not pdu.legacy:
                return  # the legacy initiator only listens for legacy PDUs
            interval = timing.choose_interval(pending.connection_interval_min, pending.connection_interval_max)
            latency = pending.max_latency
            timeout = pending.supervision_timeout
            max_ce_length = pending.max_ce_length
        if pending.initiator_filter_policy == 1:
            if (bytes(pdu.address), pdu.address.is_public) not in self.filter_accept_list:
                return
        elif not pdus.same_device_address(pending.peer_address, pdu.address):
            return
        if not pdu.connectable or pdu.address in self.le_connections:
            return
        initiator_address = own_address(self, pending.own_address_type, None)
        peripheral = pdu.advertiser.connect_request(initiator_address, interval, latency, timeout)
        if peripheral is None:
            return
        self.pending_le_connection = None
        central = self._new_connection(
            hci.Role.CENTRAL, initiator_address, pdu.address, interval, latency, timeout
        )
        self.link.open_channel(central, peripheral, ConnectionTiming(interval, latency, timeout, max_ce_length))
        self.send_le_connection_complete(
            E.SUCCESS, hci.Role.CENTRAL, central.handle, pdu.address, interval, latency, timeout, clock_accuracy=0
        )

    def accept_connection(self, advertiser, initiator_address, interval, latency, timeout) -> AirConnection | None:
        """Peripheral side of CONNECT_IND: make the connection, stop advertising, tell the host."""
        if initiator_address in self.le_connections:
            return None
        connection = self._new_connection(
            hci.Role.PERIPHERAL, advertiser.address, initiator_address, interval, latency, timeout
        )
        advertiser.stop()
        # Central clock accuracy 0x05 = 50 ppm, a typical crystal.
        self.send_le_connection_complete(
            E.SUCCESS, hci.Role.PERIPHERAL, connection.handle, initiator_address, interval, latency, timeout, 5
        )
        if isinstance(advertiser, AirAdvertisingSet):
            self.send_hci_packet(
                hci.HCI_LE_Advertising_Set_Terminated_Event(
                    status=E.SUCCESS,
                    advertising_handle=advertiser.handle,
                    connection_handle=connection.handle,
                    num_completed_extended_advertising_events=min(advertiser.events, 0xFF),
                )
            )
        return connection

    def _new_connection(self, role, self_address, peer_address, interval, latency, timeout) -> AirConnection:
        connection = AirConnection(
            controller=self,
            handle=self.allocate_connection_handle(),
            role=role,
            self_address=self_address,
            peer_address=peer_address,
            link=self.link,
            transport=PhysicalTransport.LE,
            link_type=hci.HCI_Connection_Complete_Event.LinkType.ACL,
            interval=interval,
            latency=latency,
            timeout=timeout,
            link_state=LinkState(self.suggested_max_tx_octets, self.suggested_max_tx_time),
        )
        self.le_connections[peer_address] = connection
        return connection

    # ---------------------------------------------------------------- connected
    def on_hci_disconnect_command(self, command: hci.HCI_Disconnect_Command) -> None:
        connection = self.find_le_connection_by_handle(command.connection_handle)
        if not isinstance(connection, AirConnection):
            self._send_hci_command_status(E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, command.op_code)
            return None
        if command.reason not in _DISCONNECT_REASONS:
            self._send_hci_command_status(E.INVALID_COMMAND_PARAMETERS_ERROR, command.op_code)
            return None
        if connection.terminating:
            self._send_hci_command_status(E.COMMAND_DISALLOWED_ERROR, command.op_code)
            return None
        self._send_hci_command_status(hci.HCI_COMMAND_STATUS_PENDING, command.op_code)
        connection.terminating = True
        # LL_TERMINATE_IND goes after the data already queued; both sides see
        # the disconnection when the peer acknowledges it.
        if not connection.send_ll_control_pdu(ll.TerminateInd(command.reason)):
            self.on_le_disconnected(connection, E.CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR)
        return None

    def on_terminate_acknowledged(self, connection: AirConnection) -> None:
        self.on_le_disconnected(connection, E.CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR)

    def on_le_disconnected(self, connection, reason: int) -> None:
        if self.le_connections.get(connection.peer_address) is not connection:
            return  # already gone (both ends terminated at once, or dropped)
        del self.le_connections[connection.peer_address]
        self.send_hci_packet(
            hci.HCI_Disconnection_Complete_Event(
                status=E.SUCCESS, connection_handle=connection.handle, reason=reason
            )
        )

    def on_air_pdu(self, connection: AirConnection, pdu) -> None:
        """A PDU delivered on one of our connections at a connection event."""
        if self.le_connections.get(connection.peer_address) is not connection:
            return
        if isinstance(pdu, pdus.DataPdu):
            self.send_hci_packet(
                hci.HCI_AclDataPacket(
                    connection_handle=connection.handle,
                    pb_flag=0b10 if pdu.start else 0b01,
                    bc_flag=0,
                    data_total_length=len(pdu.payload),
                    data=pdu.payload,
                )
            )
        else:
            self.on_ll_control_pdu(connection.peer_address, pdu)

    def on_data_acknowledged(self, connection: AirConnection, count: int) -> None:
        if self.le_connections.get(connection.peer_address) is connection:
            self.send_hci_packet(
                hci.HCI_Number_Of_Completed_Packets_Event(
                    connection_handles=[connection.handle], num_completed_packets=[count]
                )
            )

    def on_hci_read_rssi_command(self, command: hci.HCI_Read_RSSI_Command):
        connection = self.find_le_connection_by_handle(command.handle)
        if connection is None:
            return hci.HCI_Read_RSSI_ReturnParameters(
                status=E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, handle=command.handle, rssi=0
            )
        return hci.HCI_Read_RSSI_ReturnParameters(
            status=E.SUCCESS, handle=command.handle, rssi=self.rssi_for(connection.peer_address)
        )

    def on_hci_le_read_transmit_power_command(self, _command):
        return hci.HCI_LE_Read_Transmit_Power_ReturnParameters(
            status=E.SUCCESS, min_tx_power=self.min_tx_power & 0xFF, max_tx_power=self.max_tx_power & 0xFF
        )
