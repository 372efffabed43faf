"""Vendor-specific HCI commands the virtual controller answers, as real controllers do.

Zephyr's HCI firmware (hci_uart, hci_usb: what nRF boards run as HCI controllers) has a
vendor command to set the public address. A virtual board uses it to keep its identity
across restarts, so bonds stored by the application still match its address.
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


class VendorCommands:
    """Mixin of VirtualController: the vendor commands above."""

    def on_hci_zephyr_write_bd_addr_command(self, command):
        address = hci.Address(bytes(command.bd_addr), hci.Address.PUBLIC_DEVICE_ADDRESS)
        for other in self.link.controllers:
            if other is not self and other.public_address == address:
                return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.INVALID_COMMAND_PARAMETERS_ERROR)
        self.public_address = address
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)
