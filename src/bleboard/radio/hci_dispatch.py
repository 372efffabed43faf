"""Every HCI command gets an answer, as the Core spec requires of a controller.

A host sends a command only when the controller has a free command slot and
then waits for its Command Complete or Command Status (Vol 4, Part E, 4.4).
A controller that stays silent (Bumble's does for opcodes it has no class or
handler for, and for parameters it cannot parse) stalls hosts such as
BTstack for good.  So:

* unknown opcode, or a command this controller does not implement:
  Unknown HCI Command (0x01), Vol 4, Part E, 4.5;
* parameters too short or malformed: Invalid HCI Command Parameters (0x12);
* a handler that fails: Unspecified Error (0x1F).

Commands answered at once (Bumble's `HCI_SyncCommand`, and opcodes it does
not know) get Command Complete with the status as return parameter; commands
whose outcome comes in a later event get Command Status.
"""

from __future__ import annotations

import logging
import struct

from bumble import hci

logger = logging.getLogger(__name__)

E = hci.HCI_ErrorCode


def command_header(packet: bytes) -> tuple[int, bytes] | None:
    """(opcode, parameters) of an H4 command packet, None if it is not one."""
    if len(packet) < 4 or packet[0] != hci.HCI_COMMAND_PACKET:
        return None
    op_code, length = struct.unpack_from("<HB", packet, 1)
    return op_code, bytes(packet[4 : 4 + length])


def answered_by_command_complete(op_code: int) -> bool:
    """True unless the command's outcome comes in a later event (Command Status)."""
    cls = hci.HCI_Command.command_classes.get(op_code)
    return cls is None or not issubclass(cls, hci.HCI_AsyncCommand)


def parameters_error(op_code: int, parameters: bytes) -> str | None:
    """Why a known command's parameters cannot be decoded, or None.

    Bumble's decoder takes a byte array shorter than its field without
    complaint (a 16-octet key from 8 octets), so the decoded length is checked
    against what arrived.  Extra trailing octets are tolerated: a host written
    for a later spec version may send fields this controller does not know.
    """
    cls = hci.HCI_Command.command_classes.get(op_code)
    if cls is None:
        return None
    try:
        end, _ = hci.HCI_Object.dict_and_offset_from_bytes(parameters, 0, cls.fields)
    except Exception as error:
        return str(error) or type(error).__name__
    if end > len(parameters):
        return f"{len(parameters)} parameter octets, {end} needed"
    return None


class CommandDispatch:
    """Mixin of VirtualController: parse, dispatch and always answer host commands."""

    def answer_status(self, op_code: int, status: int) -> None:
        """The status-only answer a controller gives to a command it refuses."""
        if answered_by_command_complete(op_code):
            self.send_hci_packet(
                hci.HCI_Command_Complete_Event(
                    num_hci_command_packets=1,
                    command_opcode=op_code,
                    return_parameters=hci.HCI_StatusReturnParameters(status),
                )
            )
        else:
            self._send_hci_command_status(status, op_code)

    def on_packet(self, packet: bytes) -> None:
        header = command_header(packet)
        if header is not None:
            if self.on_raw_command(*header):
                return
            error = parameters_error(*header)
            if error is not None:
                logger.warning("%s: command 0x%04X has malformed parameters (%s)", self.name, header[0], error)
                self.answer_status(header[0], E.INVALID_COMMAND_PARAMETERS_ERROR)
                return
        try:
            parsed = hci.HCI_Packet.from_bytes(packet)
        except Exception as error:
            if header is None:
                logger.warning("%s: unparseable packet from the host dropped (%s)", self.name, error)
                return
            logger.warning("%s: command 0x%04X has malformed parameters (%s)", self.name, header[0], error)
            self.answer_status(header[0], E.INVALID_COMMAND_PARAMETERS_ERROR)
            return
        self.on_hci_packet(parsed)

    def on_raw_command(self, op_code: int, parameters: bytes) -> bool:
        """Hook for commands decoded here rather than by Bumble's registry; True when handled."""
        return False

    def on_hci_command_packet(self, command: hci.HCI_Command) -> None:
        handler = getattr(self, "on_" + command.name.lower(), None)
        if handler is None:
            logger.info("%s: unsupported command %s", self.name, command.name)
            self.answer_status(command.op_code, E.UNKNOWN_HCI_COMMAND_ERROR)
            return
        try:
            result = handler(command)
        except Exception:
            logger.exception("%s: command %s failed", self.name, command.name)
            self.answer_status(command.op_code, E.UNSPECIFIED_ERROR_ERROR)
            return
        if answered_by_command_complete(command.op_code):
            if result is None:
                logger.error("%s: handler of %s returned no parameters", self.name, command.name)
                result = hci.HCI_StatusReturnParameters(E.UNSPECIFIED_ERROR_ERROR)
            self.send_hci_packet(
                hci.HCI_Command_Complete_Event(
                    num_hci_command_packets=1, command_opcode=command.op_code, return_parameters=result
                )
            )
        elif result is not None:  # an asynchronous command refused at once: its status, in Command Status
            self._send_hci_command_status(getattr(result, "status", E.UNSPECIFIED_ERROR_ERROR), command.op_code)
