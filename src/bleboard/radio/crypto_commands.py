"""LE Encrypt and LE Rand (Vol 4, Part E, 7.8.22 and 7.8.23), done as the spec says.

Hosts without their own AES (BTstack on small boards, Zephyr's host with
controller crypto) derive pairing keys, resolvable private addresses and
random numbers through these two commands, so they must be exact: a wrong
byte order pairs with nobody.  HCI sends every multi-octet parameter least
significant octet first, while the spec's AES-128 takes the most significant
octet as in[0] (FIPS-197); so key, plaintext and result are reversed around
the cipher (Bumble's security function `e` does exactly that).
"""

from __future__ import annotations

import dataclasses
import os

from bumble import crypto, hci


@dataclasses.dataclass
class HCI_LE_Encrypt_ReturnParameters(hci.HCI_StatusReturnParameters):
    encrypted_data: bytes = hci.field(metadata=hci.metadata(16))


@hci.HCI_SyncCommand.sync_command(HCI_LE_Encrypt_ReturnParameters)
@dataclasses.dataclass
class HCI_LE_Encrypt_Command(hci.HCI_SyncCommand[HCI_LE_Encrypt_ReturnParameters]):
    """LE Encrypt: AES-128 of one block under a host-given key (Vol 4, Part E, 7.8.22)."""

    key: bytes = hci.field(metadata=hci.metadata(16))
    plaintext_data: bytes = hci.field(metadata=hci.metadata(16))


class CryptoCommands:
    """Mixin of VirtualController: the controller's AES-128 and random number generator."""

    def on_hci_le_encrypt_command(self, command: HCI_LE_Encrypt_Command) -> HCI_LE_Encrypt_ReturnParameters:
        return HCI_LE_Encrypt_ReturnParameters(
            status=hci.HCI_ErrorCode.SUCCESS,
            encrypted_data=crypto.e(bytes(command.key), bytes(command.plaintext_data)),
        )

    def on_hci_le_rand_command(self, _command) -> hci.HCI_LE_Rand_ReturnParameters:
        # 8 octets from the OS's CSPRNG: LE Rand feeds pairing, so it must not be predictable.
        return hci.HCI_LE_Rand_ReturnParameters(status=hci.HCI_ErrorCode.SUCCESS, random_number=os.urandom(8))
