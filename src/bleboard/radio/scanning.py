"""The scanner of the virtual controller: from advertising PDUs to HCI reports.

A real scanner reports each PDU it hears with the PDU's own type; it sends
SCAN_REQ only when scanning actively and only to scannable advertisers, so
passive scanners never see scan responses.  Which report event the host gets
depends on how it started the scan: the legacy LE Set Scan Enable command
gives HCI_LE_Advertising_Report events (event types 0..4) and hears legacy
PDUs only; LE Set Extended Scan Enable gives HCI_LE_Extended_Advertising_Report
events, whose event type is a bit field (connectable, scannable, directed,
scan response, legacy) and whose data is split in fragments of at most 229
bytes with a "more to come" status, as the HCI event size demands.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bumble import hci

from bleboard.radio import pdus
from bleboard.radio.advertising import own_address

if TYPE_CHECKING:
    from bleboard.radio.controller import VirtualController

_Ext = hci.HCI_LE_Extended_Advertising_Report_Event
_ExtType = _Ext.EventType

# 255-byte event parameters - subevent code - report count - fixed report fields.
MAX_EXTENDED_REPORT_DATA = 255 - 1 - 1 - 24

# Scan interval and window after reset: 10 ms each, so continuous (Vol 4, Part E, 7.8.10).
DEFAULT_SCAN_UNITS = 0x0010
SCAN_UNIT_S = 0.000625

# Extended report event types of legacy PDUs (Vol 4, Part E, 7.7.65.13).
_LEGACY_EXTENDED_EVENT_TYPES = {
    pdus.ADV_IND: 0b0010011,
    pdus.ADV_DIRECT_IND: 0b0010101,
    pdus.ADV_SCAN_IND: 0b0010010,
    pdus.ADV_NONCONN_IND: 0b0010000,
}
_SCAN_RSP_TO_ADV_IND = 0b0011011
_SCAN_RSP_TO_ADV_SCAN_IND = 0b0011010


class Scanner:
    """Scanning state of one controller and the reports it produces."""

    def __init__(self, controller: VirtualController):
        self.controller = controller
        self.reset()

    def reset(self) -> None:
        self.enabled = False
        self.extended = False  # which command family enabled the scan
        self.active = False
        self.own_address_type = hci.OwnAddressType.PUBLIC
        self.filter_duplicates = False
        self.interval = self.window = DEFAULT_SCAN_UNITS  # 0.625 ms units
        self._started = 0.0
        self._seen: set = set()

    def set_parameters(self, active: bool, own_address_type: int, interval: int = DEFAULT_SCAN_UNITS,
                       window: int = DEFAULT_SCAN_UNITS) -> None:
        self.active = active
        self.own_address_type = own_address_type
        self.interval, self.window = interval, window

    def enable(self, enabled: bool, extended: bool, filter_duplicates: bool) -> None:
        if enabled and not self.enabled:
            self._seen = set()  # duplicate filtering restarts with each scan
            self._started = asyncio.get_running_loop().time()  # the first scan window opens now
        self.enabled = enabled
        self.extended = extended
        self.filter_duplicates = filter_duplicates

    @property
    def address(self) -> hci.Address:
        return own_address(self.controller, self.own_address_type, None)

    def listening(self) -> bool:
        """True inside a scan window: a scanner listens `window` out of every `interval`."""
        if self.window >= self.interval:
            return True
        elapsed = asyncio.get_running_loop().time() - self._started
        return elapsed % (self.interval * SCAN_UNIT_S) < self.window * SCAN_UNIT_S

    def on_advertising_pdu(self, pdu: pdus.AdvertisingPdu) -> None:
        if not self.enabled or not self.listening():
            return
        if not self.extended and not pdu.legacy:
            return  # legacy scanning listens for legacy PDUs only
        scanner_address = self.address
        if pdu.directed and (pdu.target is None or not pdus.same_device_address(pdu.target, scanner_address)):
            return  # directed at someone else
        self._report(pdu, pdu.data, scan_response=False)
        if self.active and pdu.scannable:
            response = pdu.advertiser.scan_request(scanner_address)
            if response is not None:
                self._report(pdu, response, scan_response=True)

    def _report(self, pdu: pdus.AdvertisingPdu, data: bytes, scan_response: bool) -> None:
        if self.filter_duplicates:
            key = (bytes(pdu.address), pdu.address.is_public, pdu.legacy_type, pdu.sid, scan_response, data)
            if key in self._seen:
                return
            self._seen.add(key)
        if self.extended:
            self._send_extended_reports(pdu, data, scan_response)
        else:
            self._send_legacy_report(pdu, data, scan_response)

    def _send_legacy_report(self, pdu: pdus.AdvertisingPdu, data: bytes, scan_response: bool) -> None:
        report = hci.HCI_LE_Advertising_Report_Event.Report(
            event_type=pdus.SCAN_RSP if scan_response else pdu.legacy_type,
            address_type=_report_address_type(pdu.address),
            address=pdu.address,
            data=data,
            rssi=self.controller.rssi_for(pdu.address),
        )
        self.controller.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([report]))

    def _send_extended_reports(self, pdu: pdus.AdvertisingPdu, data: bytes, scan_response: bool) -> None:
        event_type = _extended_event_type(pdu, scan_response)
        fragments = [data[i : i + MAX_EXTENDED_REPORT_DATA] for i in range(0, len(data), MAX_EXTENDED_REPORT_DATA)]
        fragments = fragments or [b""]
        for index, fragment in enumerate(fragments):
            more = index < len(fragments) - 1
            status = _Ext.DATA_INCOMPLETE_MORE_TO_COME if more else _Ext.DATA_COMPLETE
            tx_power = pdu.tx_power if pdu.tx_power is not None else _Ext.TX_POWER_INFORMATION_NOT_AVAILABLE
            report = _Ext.Report(
                event_type=event_type | (status << 5),
                address_type=_report_address_type(pdu.address),
                address=pdu.address,
                primary_phy=hci.Phy.LE_1M,
                secondary_phy=0 if pdu.legacy else hci.Phy.LE_1M,
                advertising_sid=0xFF if pdu.legacy else pdu.sid,
                tx_power=tx_power & 0xFF,
                rssi=self.controller.rssi_for(pdu.address),
                periodic_advertising_interval=0,
                direct_address_type=_report_address_type(pdu.target) if pdu.directed and pdu.target else 0,
                direct_address=pdu.target if pdu.directed and pdu.target else hci.Address.ANY,
                data=fragment,
            )
            self.controller.send_hci_packet(_Ext([report]))


def _report_address_type(address: hci.Address) -> int:
    return hci.Address.PUBLIC_DEVICE_ADDRESS if address.is_public else hci.Address.RANDOM_DEVICE_ADDRESS


def _extended_event_type(pdu: pdus.AdvertisingPdu, scan_response: bool) -> int:
    if pdu.legacy:
        if scan_response:
            return _SCAN_RSP_TO_ADV_IND if pdu.legacy_type == pdus.ADV_IND else _SCAN_RSP_TO_ADV_SCAN_IND
        return _LEGACY_EXTENDED_EVENT_TYPES[pdu.legacy_type]
    event_type = 0
    if pdu.connectable:
        event_type |= _ExtType.CONNECTABLE_ADVERTISING
    if pdu.scannable:
        event_type |= _ExtType.SCANNABLE_ADVERTISING
    if pdu.directed:
        event_type |= _ExtType.DIRECTED_ADVERTISING
    if scan_response:
        event_type |= _ExtType.SCAN_RESPONSE
    return int(event_type)
