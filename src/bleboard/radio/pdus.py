"""What travels on the virtual air between controllers.

Bumble's `ll` module has no SCAN_REQ/SCAN_RSP, no ADV_SCAN_IND and no way to
say "extended, scannable, directed"; a scanner needs all of that to build the
report a real controller would give its host.  So advertising events are
described here in the terms of the Link Layer spec (Vol 6, Part B, 2.3), and
connection data in terms of LL data PDUs (2.4).  LL control PDUs reuse
`bumble.ll` classes as they are.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bumble import hci

if TYPE_CHECKING:
    from bleboard.radio.advertising import Advertiser

# Legacy advertising PDU types as reported in HCI_LE_Advertising_Report (event types 0..4).
ADV_IND = 0
ADV_DIRECT_IND = 1
ADV_SCAN_IND = 2
ADV_NONCONN_IND = 3
SCAN_RSP = 4


@dataclasses.dataclass(frozen=True)
class AdvertisingPdu:
    """One advertising event as heard on the primary advertising channels.

    `advertiser` is the sender's advertiser object: an active scanner asks it
    for the scan response (the SCAN_REQ/SCAN_RSP exchange) and an initiator
    hands it the CONNECT_IND, exactly when a real radio would.
    """

    advertiser: Advertiser
    address: hci.Address
    legacy_type: int | None  # ADV_IND..ADV_NONCONN_IND, or None for extended PDUs
    connectable: bool
    scannable: bool
    directed: bool
    target: hci.Address | None
    data: bytes
    sid: int = 0
    tx_power: int | None = None  # dBm, only when the advertiser includes it

    @property
    def legacy(self) -> bool:
        return self.legacy_type is not None


@dataclasses.dataclass(frozen=True)
class DataPdu:
    """An LL data PDU: one HCI ACL fragment as the host handed it to its controller.

    `start` is True for the first fragment of an L2CAP PDU (LLID 0b10) and
    False for a continuation (LLID 0b01).
    """

    start: bool
    payload: bytes


def legacy_type_from_properties(properties: int) -> int | None:
    """Legacy PDU type for extended-advertising event properties with the legacy bit set.

    Returns None for combinations the spec forbids (Vol 4, Part E, 7.8.53, table).
    """
    props = hci.HCI_LE_Set_Extended_Advertising_Parameters_Command.AdvertisingProperties
    bits = properties & (
        props.CONNECTABLE_ADVERTISING
        | props.SCANNABLE_ADVERTISING
        | props.DIRECTED_ADVERTISING
        | props.HIGH_DUTY_CYCLE_DIRECTED_CONNECTABLE_ADVERTISING
    )
    return {
        0b0011: ADV_IND,
        0b0101: ADV_DIRECT_IND,  # low duty cycle
        0b1101: ADV_DIRECT_IND,  # high duty cycle
        0b0010: ADV_SCAN_IND,
        0b0000: ADV_NONCONN_IND,
    }.get(int(bits))


def same_device_address(a: hci.Address, b: hci.Address) -> bool:
    """Address equality as the air sees it: the 48 bits plus public/random."""
    return a.address_bytes == b.address_bytes and a.is_public == b.is_public
