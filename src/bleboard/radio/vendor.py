"""Vendor-specific HCI commands the virtual controller answers, as Zephyr's HCI firmware does.

Zephyr's hci_uart/hci_usb (what nRF boards run as HCI controllers) is the controller
H4 hosts expect on a UART, so the virtual controller speaks its vendor commands:

* Write BD_ADDR (0xFC06): a virtual board sets its public address, keeping its
  identity across restarts so bonds stored by the application still match.
* Read Static Addresses (0xFC09): BTstack's Zephyr chipset driver sends it at
  start-up and MicroPython's BTstack binding takes the address it returns as the
  board's identity.

Vendor opcodes mean different things to each vendor (Bumble's Intel driver, once
imported, registers 0xFC09 as Intel Secure Send), so the controller decodes them
here from the raw bytes, never through Bumble's command registry; any other
vendor opcode is answered Unknown HCI Command.
"""

from __future__ import annotations

import dataclasses

from bumble import hci

HCI_ZEPHYR_WRITE_BD_ADDR_COMMAND = hci.hci_vendor_command_op_code(0x0006)
hci.HCI_Command.register_commands({"HCI_ZEPHYR_WRITE_BD_ADDR_COMMAND": HCI_ZEPHYR_WRITE_BD_ADDR_COMMAND})


@hci.HCI_SyncCommand.sync_command(hci.HCI_StatusReturnParameters)
@dataclasses.dataclass
class HCI_Zephyr_Write_BD_ADDR_Command(hci.HCI_SyncCommand[hci.HCI_StatusReturnParameters]):
    """Zephyr vendor command Write BD_ADDR (OGF 0x3F, OCF 0x006): set the public address."""

    bd_addr: hci.Address = dataclasses.field(
        metadata=hci.metadata(
            lambda data, offset: hci.Address.parse_address_with_type(data, offset, hci.Address.PUBLIC_DEVICE_ADDRESS)
        )
    )


HCI_ZEPHYR_READ_STATIC_ADDRESSES_COMMAND = hci.hci_vendor_command_op_code(0x0009)
_VENDOR_OGF = 0x3F
E = hci.HCI_ErrorCode


def static_address_for(public_address: hci.Address) -> hci.Address:
    """The controller's static random address: its public address with the two top bits set.

    Unique on the air because public addresses are; stable for the board, as a
    chip's factory static address is.
    """
    value = bytearray(public_address.address_bytes)  # least significant octet first
    value[5] |= 0xC0
    return hci.Address(bytes(value), hci.Address.RANDOM_DEVICE_ADDRESS)


class VendorCommands:
    """Mixin of VirtualController: the vendor commands above, decoded from raw bytes."""

    def on_raw_command(self, op_code: int, parameters: bytes) -> bool:
        if op_code >> 10 != _VENDOR_OGF:
            return super().on_raw_command(op_code, parameters)
        if op_code == HCI_ZEPHYR_WRITE_BD_ADDR_COMMAND:
            result = self._zephyr_write_bd_addr(parameters)
        elif op_code == HCI_ZEPHYR_READ_STATIC_ADDRESSES_COMMAND:
            result = self._zephyr_read_static_addresses(parameters)
        else:
            result = bytes([E.UNKNOWN_HCI_COMMAND_ERROR])
        self.send_hci_packet(
            hci.HCI_Command_Complete_Event(
                num_hci_command_packets=1,
                command_opcode=op_code,
                return_parameters=hci.HCI_GenericReturnParameters(data=result),
            )
        )
        return True

    def _zephyr_write_bd_addr(self, parameters: bytes) -> bytes:
        if len(parameters) != 6:
            return bytes([E.INVALID_COMMAND_PARAMETERS_ERROR])
        address = hci.Address(parameters, hci.Address.PUBLIC_DEVICE_ADDRESS)
        for other in self.link.controllers:
            if other is not self and other.public_address == address:
                return bytes([E.INVALID_COMMAND_PARAMETERS_ERROR])
        self.public_address = address
        return bytes([E.SUCCESS])

    def _zephyr_read_static_addresses(self, parameters: bytes) -> bytes:
        if parameters:
            return bytes([E.INVALID_COMMAND_PARAMETERS_ERROR])
        # Status, one address, then per address its BD_ADDR and a 16-octet Identity Root
        # (all zero: this controller has no key hierarchy of its own).
        return bytes([E.SUCCESS, 1]) + static_address_for(self.public_address).address_bytes + bytes(16)
