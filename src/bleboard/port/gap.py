"""GAP for the port: advertising, scanning, connecting, connection parameters.

Runs on the radio loop. Reports raw advertising reports (every PDU, no accumulation, as
MicroPython does) by listening to the host's advertising reports directly.
"""

import asyncio
import logging

from bumble import hci
from bumble.core import PhysicalTransport
from bumble.device import (
    AdvertisingEventProperties,
    AdvertisingParameters,
    AdvertisingType,
    ConnectionParametersPreferences,
)

from bluetooth._port import EALREADY, EBUSY, EINVAL, PortError

from . import bumble_compat

log = logging.getLogger("bleboard.port")

NO_ADDR = (0xFFFF, 0xFF, bytes(6))

# NimBLE's defaults (host/include/host/ble_gap.h), which MicroPython uses on ESP32 and
# other NimBLE boards: a central asks for 30-50 ms, latency 0 and a 2.56 s supervision
# timeout; advertising with interval 0 means 30-60 ms (connectable) or 100-150 ms.
CONNECT_INTERVAL_MIN_US = 30000
CONNECT_INTERVAL_MAX_US = 50000
CONNECT_LATENCY = 0
SUPERVISION_TIMEOUT_MS = 2560
ADV_DEFAULT_CONNECTABLE_MS = (30.0, 60.0)
ADV_DEFAULT_NONCONNECTABLE_MS = (100.0, 150.0)
_EXT = hci.HCI_LE_Extended_Advertising_Report_Event.Report


def _adv_type(report):
    """MicroPython adv_type (0 ADV_IND .. 4 SCAN_RSP) of a legacy or extended report."""
    if not isinstance(report, _EXT):
        return int(report.event_type)
    bits = int(report.event_type)
    if bits & 0x08:
        return 4
    if bits & 0x04:
        return 1
    if bits & 0x01:
        return 0
    if bits & 0x02:
        return 2
    return 3


class Gap:
    def __init__(self, port):
        self.port = port
        self.device = None
        self.advertising = False
        self.adv_set = None
        self.adv_timer = None
        self.scanning = False
        self.scan_timer = None
        self.connecting = None  # task of the pending gap_connect
        self.connect_timer = None
        self.cancelling = False
        self.fragments = {}  # (address, sid) -> extended advertising data received so far
        self.tx_power = 0

    def attach(self, device):
        self.device = device
        self.advertising = self.scanning = False
        self.connecting = None
        device.host.on("advertising_report", self._on_report)
        device.on("connection", self._on_connection)

    def _own_type(self):
        return hci.OwnAddressType.PUBLIC if self.port.own_addr_type == 0 else hci.OwnAddressType.RANDOM

    # ---- advertising ------------------------------------------------------
    async def advertise(self, interval_us, adv_data, resp_data, connectable, options):
        await self._stop_advertising()
        if interval_us is None:
            return
        device = self.device
        if interval_us == 0:
            interval_ms, interval_max_ms = ADV_DEFAULT_CONNECTABLE_MS if connectable else ADV_DEFAULT_NONCONNECTABLE_MS
        else:
            interval_ms = interval_max_ms = interval_us / 1000.0
        scannable = options.get("scannable")
        if scannable is None:
            scannable = True
        directed = options.get("directed_to")
        if options.get("tx_power") is not None:
            self.tx_power = max(-20, min(20, options["tx_power"]))
        if options.get("extended"):
            await self._advertise_extended(interval_ms, adv_data, resp_data, connectable, scannable, options)
        else:
            if directed is not None:
                adv_kind = AdvertisingType.DIRECTED_CONNECTABLE_LOW_DUTY
            elif connectable:
                adv_kind = AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE
            elif scannable:
                adv_kind = AdvertisingType.UNDIRECTED_SCANNABLE
            else:
                adv_kind = AdvertisingType.UNDIRECTED
            target = None
            if directed is not None:
                target = hci.Address(bytes(reversed(directed[1])), directed[0])
            own_type = self._own_type()
            if options.get("anonymous"):
                await self._use_nrpa()
                own_type = hci.OwnAddressType.RANDOM
            try:
                await device.start_advertising(
                    advertising_type=adv_kind, target=target, own_address_type=own_type,
                    advertising_data=adv_data, scan_response_data=resp_data,
                    advertising_interval_min=interval_ms, advertising_interval_max=interval_max_ms,
                )
            except hci.HCI_Error as exc:
                raise PortError(EINVAL, "advertising refused by the controller: %s" % exc) from None
        self.advertising = True
        if options.get("timeout_ms"):
            self.adv_timer = asyncio.get_running_loop().call_later(
                options["timeout_ms"] / 1000.0, lambda: asyncio.ensure_future(self._stop_advertising())
            )

    async def _advertise_extended(self, interval_ms, adv_data, resp_data, connectable, scannable, options):
        props = AdvertisingEventProperties(
            is_connectable=connectable, is_scannable=bool(scannable and not connectable and resp_data),
            is_directed=options.get("directed_to") is not None, is_legacy=False,
        )
        own_type = self._own_type()
        random_address = None
        if options.get("anonymous"):
            random_address = hci.Address.generate_private_address()
            own_type = hci.OwnAddressType.RANDOM
        elif own_type == hci.OwnAddressType.RANDOM:
            random_address = self.device.random_address
        params = AdvertisingParameters(
            advertising_event_properties=props, primary_advertising_interval_min=interval_ms,
            primary_advertising_interval_max=interval_ms, own_address_type=own_type,
            advertising_tx_power=self.tx_power,
        )
        try:
            self.adv_set = await self.device.create_advertising_set(
                advertising_parameters=params, random_address=random_address, advertising_data=adv_data,
                scan_response_data=resp_data if props.is_scannable else b"", auto_start=True,
            )
        except hci.HCI_Error as exc:
            raise PortError(EINVAL, "extended advertising refused by the controller: %s" % exc) from None

    async def _use_nrpa(self):
        address = hci.Address.generate_private_address()
        await self.device.send_command(hci.HCI_LE_Set_Random_Address_Command(random_address=address))
        bumble_compat.use_random_address(self.device, address, static=False)

    async def _stop_advertising(self):
        if self.adv_timer is not None:
            self.adv_timer.cancel()
            self.adv_timer = None
        if not self.advertising:
            return
        self.advertising = False
        device = self.device
        if device is None:
            return
        try:
            if self.adv_set is not None:
                adv_set, self.adv_set = self.adv_set, None
                if adv_set.enabled:
                    await adv_set.stop()
                await adv_set.remove()
            else:
                await device.stop_advertising()
        except hci.HCI_Error as exc:
            log.debug("stop advertising: %r", exc)

    # ---- scanning ---------------------------------------------------------
    async def scan(self, duration_ms, interval_us, window_us, active):
        if duration_ms is None:
            await self._stop_scan()
            return
        if self.scanning:
            raise PortError(EALREADY, "already scanning")
        if self.connecting is not None:
            raise PortError(EBUSY, "a connection attempt is in progress")
        await self.device.start_scanning(
            active=active, scan_interval=interval_us / 1000.0, scan_window=window_us / 1000.0,
            own_address_type=self._own_type(), filter_duplicates=False,
        )
        self.scanning = True
        if duration_ms:
            self.scan_timer = asyncio.get_running_loop().call_later(
                duration_ms / 1000.0, lambda: asyncio.ensure_future(self._stop_scan())
            )

    async def _stop_scan(self):
        if self.scan_timer is not None:
            self.scan_timer.cancel()
            self.scan_timer = None
        if not self.scanning:
            return
        self.scanning = False
        try:
            await self.device.stop_scanning()
        except hci.HCI_Error as exc:
            log.debug("stop scanning: %r", exc)
        self.port.sink.on_scan_done()

    def _on_report(self, report):
        if not self.scanning:
            return
        data = bytes(report.data)
        if isinstance(report, _EXT):
            # Long extended advertising data arrives in fragments: data status 1 = more to
            # come, 2 = truncated (dropped), 0 = complete.
            key = (bytes(report.address), report.advertising_sid)
            status = (int(report.event_type) >> 5) & 0x03
            if status == 1:
                self.fragments[key] = self.fragments.get(key, b"") + data
                return
            data = self.fragments.pop(key, b"") + data
            if status == 2:
                return
        address = report.address
        addr_type = 1 if int(report.address_type) & 1 else 0
        self.port.sink.on_scan_result(addr_type, bytes(reversed(bytes(address))), _adv_type(report), int(report.rssi), data)

    # ---- connecting -------------------------------------------------------
    async def connect(self, addr_type, addr, scan_duration_ms, min_interval_us, max_interval_us):
        if self.connecting is not None:
            raise PortError(EALREADY, "a connection attempt is already in progress")
        if self.scanning:
            await self._stop_scan()
        prefs = ConnectionParametersPreferences(
            connection_interval_min=(min_interval_us or CONNECT_INTERVAL_MIN_US) / 1000.0,
            connection_interval_max=(max_interval_us or max(min_interval_us or 0, CONNECT_INTERVAL_MAX_US)) / 1000.0,
            max_latency=CONNECT_LATENCY,
            supervision_timeout=SUPERVISION_TIMEOUT_MS,
            min_ce_length=0,
            max_ce_length=0,
        )
        peer = hci.Address(bytes(reversed(addr)), addr_type)
        timeout = (scan_duration_ms or 30000) / 1000.0
        self.connecting = asyncio.ensure_future(self._connect(peer, prefs))
        # One canceller only (the timer or gap_connect(None), whichever comes first): a
        # second LE Create Connection Cancel is refused by the controller.
        self.connect_timer = asyncio.get_running_loop().call_later(
            timeout, lambda: asyncio.ensure_future(self._cancel_attempt()))

    async def _connect(self, peer, prefs):
        try:
            await self.device.connect_le(
                peer, connection_parameters_preferences={hci.HCI_LE_1M_PHY: prefs},
                own_address_type=self._own_type(), timeout=None,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # timeout, cancel, refusal: all end the attempt
            log.debug("connect failed: %r", exc)
            if self.port.active:
                self.port.sink.on_peripheral_disconnect(*NO_ADDR)
        finally:
            self.connecting = None
            if self.connect_timer is not None:
                self.connect_timer.cancel()
                self.connect_timer = None

    async def _cancel_attempt(self):
        if self.connect_timer is not None:
            self.connect_timer.cancel()
            self.connect_timer = None
        task = self.connecting
        if task is None or self.cancelling:
            return
        self.cancelling = True
        try:
            # A cancel right after gap_connect can beat the create command to the controller:
            # let the command go out first (it takes a loop turn or two), then cancel it.
            for _ in range(500):
                if self.device.is_le_connecting or task.done():
                    break
                await asyncio.sleep(0.002)
            if not task.done():
                await self.device.cancel_connection()
        except hci.HCI_Error as exc:
            log.debug("cancel connection: %r", exc)  # it connected meanwhile
        finally:
            self.cancelling = False

    async def cancel_connect(self):
        if self.connecting is None:
            raise PortError(EALREADY, "no connection attempt to cancel")
        await self._cancel_attempt()

    def _on_connection(self, connection):
        if connection.transport != PhysicalTransport.LE:
            return
        link = self.port.add_link(connection)
        sink = self.port.sink
        if link.is_central:
            sink.on_peripheral_connect(link.handle, link.peer_addr_type, link.peer_addr)
        else:
            self._advertising_ended()
            sink.on_central_connect(link.handle, link.peer_addr_type, link.peer_addr)

    def _advertising_ended(self):
        """A central connected: connectable advertising stops by itself (spec §3.4)."""
        self.advertising = False
        self.adv_set = None
        if self.adv_timer is not None:
            self.adv_timer.cancel()
            self.adv_timer = None

    # ---- parameters -------------------------------------------------------
    async def connection_update(self, link, min_us, max_us, latency, timeout_ms):
        try:
            await link.connection.update_parameters(
                min_us / 1000.0, max_us / 1000.0, latency, timeout_ms,
            )
        except Exception as exc:  # reported as a failed update
            log.debug("connection update failed: %r", exc)
            p = link.connection.parameters
            self.port.sink.on_connection_update(
                link.handle, int(p.connection_interval / 1.25), int(p.peripheral_latency),
                int(p.supervision_timeout / 10), 1,
            )

    def on_parameters_update(self, link):
        p = link.connection.parameters
        self.port.sink.on_connection_update(
            link.handle, int(round(p.connection_interval / 1.25)), int(p.peripheral_latency),
            int(round(p.supervision_timeout / 10)), 0,
        )

    async def set_addr_mode(self, mode):
        if mode == 0:
            if self.device.public_address == hci.Address.ANY:
                raise PortError(EINVAL, "the controller has no public address")
            self.port.own_addr_type = 0
            self.port.own_addr = bytes(reversed(bytes(self.device.public_address)))
        elif mode == 1:
            await self.port._use_random(self.device, hci.Address.generate_static_address())
        elif mode == 2:
            # Resolvable private address from our identity key: bonded peers can resolve it.
            await self.port._use_random(self.device, hci.Address.generate_private_address(self.device.irk))
            self.port.rpa = True
        else:
            await self.port._use_random(self.device, hci.Address.generate_private_address())
        if mode != 2:
            self.port.rpa = False

    # ---- teardown ---------------------------------------------------------
    def stop_all(self, notify_scan_done):
        if self.adv_timer is not None:
            self.adv_timer.cancel()
        if self.scan_timer is not None:
            self.scan_timer.cancel()
        was_scanning = self.scanning
        self.advertising = self.scanning = False
        if self.connecting is not None:
            self.connecting.cancel()
            self.connecting = None
        if self.connect_timer is not None:
            self.connect_timer.cancel()
            self.connect_timer = None
        self.fragments.clear()
        if was_scanning and notify_scan_done:
            self.port.sink.on_scan_done()

    def on_radio_lost(self):
        self.stop_all(notify_scan_done=True)
