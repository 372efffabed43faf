"""BumblePort: the `bluetooth` port over a Bumble host (the desktop's "common-hal").

This module owns the life cycle (open the HCI transport, power on, close) and the table
of connections; GAP, GATT server and GATT client live in gap.py, gatts.py and gattc.py.
Every Bumble object is touched only on the radio loop (loop.py); methods called by the
binding either wait for the loop with a timeout or hand work over in order.
"""

import asyncio
import logging
import os
import sys

from bumble import hci
from bumble.device import Device, DeviceConfiguration

from bluetooth._port import EINVAL, ENODEV, ENOMEM, ENOTCONN, PortError

from . import bumble_compat
from . import loop as radio_loop
from .gap import Gap
from .bumble_compat.host import QuietHost
from .gattc import GattClient
from .gatts import MAX_QUEUED_INDICATIONS, GattServer
from .l2cap import L2cap
from .link import Link
from .security import Security

log = logging.getLogger("bleboard.port")

def _wanted_address(options):
    text = options.get("address") or os.environ.get("BLEBOARD_ADDRESS")
    if not text:
        return None
    if isinstance(text, (bytes, bytearray)):
        raw = bytes(text)
    else:
        try:
            raw = bytes.fromhex(str(text).replace(":", ""))
        except ValueError:
            raise PortError(EINVAL, "board address %r is not six hex bytes (AA:BB:CC:DD:EE:FF)" % (text,)) from None
    if len(raw) != 6:
        raise PortError(EINVAL, "a board address has 6 bytes (AA:BB:CC:DD:EE:FF)")
    return raw


def _smp_timeout(options):
    """The pairing timeout asked for (tests shorten it), or None for the spec's 30 s."""
    value = options.get("smp_timeout")
    if value is None:
        value = os.environ.get("BLEBOARD_SMP_TIMEOUT")
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise PortError(EINVAL, "smp_timeout (BLEBOARD_SMP_TIMEOUT) must be a positive number of seconds, not %r" % (value,))
    return seconds


def _quiet_bumble():
    """Bumble logs warnings; a board prints nothing of its own unless logging is configured."""
    if not logging.getLogger().handlers and not os.environ.get("BLEBOARD_VERBOSE"):
        for name in ("bumble", "bleboard"):
            logger = logging.getLogger(name)
            if not logger.handlers:
                logger.addHandler(logging.NullHandler())
                logger.propagate = False


_quiet_bumble()


class BumblePort:
    """One board's host stack: a Bumble Device talking HCI to one controller."""

    def __init__(self, options):
        self.options = dict(options)
        self.rl = radio_loop.get()
        self.rl.ports.append(self)
        self.sink = None
        self.transport = None
        self.device = None
        self.active = False
        self.links = {}  # conn_handle -> Link
        self.own_addr_type = 0
        self.own_addr = bytes(6)
        self.identity = None  # the address this board keeps across active(False)/active(True)
        self.identity_public = False
        self.rpa = False  # addr_mode 2: config('mac') is EINVAL, as on NimBLE
        self.gap = Gap(self)
        self.gatts = GattServer(self)
        self.gattc = GattClient(self)
        self.l2cap = L2cap(self)
        self.security = Security(self)

    # ---- life cycle -------------------------------------------------------
    def is_active(self):
        return self.active

    def start(self, sink, settings):
        self.sink = sink
        self.settings = dict(settings)
        self.profile = self.settings.get("profile") or {}
        self.rl.run(self._start(), timeout=float(os.environ.get("BLEBOARD_START_TIMEOUT", "10")))
        self.active = True

    async def _start(self):
        from bleboard.radio.transport import open_hci

        smp_timeout = _smp_timeout(self.options)  # checked before the radio is opened
        spec = self.options.get("hci")
        try:
            transport = await open_hci(spec, radio=self.options.get("radio"))
        except PortError:
            raise
        except Exception as exc:  # any transport failure means "no radio"
            raise PortError(ENODEV, "cannot open the radio: %s" % exc) from None
        snoop = self.options.get("snoop") or os.environ.get("BLEBOARD_SNOOP")
        if snoop:
            from bleboard.radio.snoop import wrap_transport

            transport = wrap_transport(transport, snoop)
        self.transport = transport
        config = DeviceConfiguration()
        config.name = self.settings["gap_name"].decode("utf-8", "replace")
        config.advertising_data = b""
        config.scan_response_data = b""
        config.keystore = None
        host = QuietHost(controller_source=transport.source, controller_sink=transport.sink)
        device = Device(name=config.name, address=hci.Address.generate_static_address(), host=host)
        device.config = config
        bumble_compat.install(device, smp_timeout=smp_timeout)
        self.device = device
        self.gatts.attach(device)
        self.gap.attach(device)
        self.l2cap.attach(device)
        self.security.attach(device)
        await device.power_on()
        self.rpa = False
        await self._choose_address(device)
        self.security.started()
        self.gatts.reset()
        self.gatts.set_preferred_mtu(self.settings["mtu"])
        asyncio.get_running_loop().create_task(self._watch_transport(transport))

    async def _choose_address(self, device):
        """Public address if the controller has one, else a fresh static random one (NimBLE).

        A board keeps its identity: the address it had before active(False), or the one
        asked for with BLE.new(address=...) / BLEBOARD_ADDRESS, is written to the controller
        with the vendor command Zephyr controllers understand, so bonds survive restarts.
        """
        wanted = self.identity or _wanted_address(self.options)
        public = device.public_address
        has_public = public is not None and public != hci.Address.ANY
        if wanted is not None and has_public and bytes(reversed(bytes(public))) == wanted:
            pass  # the controller has it already (Root Canal hands a returning client its freed address)
        elif wanted is not None and await self._write_public_address(device, wanted):
            pass
        elif wanted is not None and not self.identity_public and wanted[0] & 0xC0 == 0xC0:
            # A public identity stays public: on a controller that cannot take it back the
            # board gets the controller's address rather than a random one that looks alike.
            await self._use_random(device, hci.Address(bytes(reversed(wanted)), hci.Address.RANDOM_DEVICE_ADDRESS))
            self.identity = wanted
            return
        public = device.public_address
        if public is not None and public != hci.Address.ANY:
            self.own_addr_type = 0
            self.own_addr = bytes(reversed(bytes(public)))
            self.identity = self.own_addr
            self.identity_public = True
            return
        await self._use_random(device, hci.Address.generate_static_address())

    async def _use_random(self, device, address):
        await device.send_command(hci.HCI_LE_Set_Random_Address_Command(random_address=address))
        bumble_compat.use_random_address(device, address)
        self.own_addr_type = 1
        self.own_addr = bytes(reversed(bytes(address)))

    async def _write_public_address(self, device, wanted):
        from bleboard.radio.vendor import HCI_Zephyr_Write_BD_ADDR_Command

        command = HCI_Zephyr_Write_BD_ADDR_Command(
            bd_addr=hci.Address(bytes(reversed(wanted)), hci.Address.PUBLIC_DEVICE_ADDRESS))
        try:
            response = await asyncio.wait_for(device.host.send_command(command), 2.0)
            if response.return_parameters.status != 0:
                return False
            reply = await device.send_command(hci.HCI_Read_BD_ADDR_Command())
            bumble_compat.use_public_address(device, reply.return_parameters.bd_addr)
        except Exception as exc:  # a controller without the vendor command
            log.debug("controller refused Write BD_ADDR: %r", exc)
            return False
        return bytes(reversed(bytes(device.public_address))) == wanted

    async def _watch_transport(self, transport):
        try:
            await transport.source.wait_for_termination()
        except Exception:  # termination with an error is still termination
            pass
        if self.transport is transport and self.active:
            self._radio_lost()

    def _radio_lost(self):
        """The controller (or the shared radio) went away: report it and end every link."""
        print("bleboard: lost the radio connection; BLE is now inactive", file=sys.stderr)
        self.gap.on_radio_lost()
        for link in list(self.links.values()):
            self.drop_link(link, reason=0x08, notify=True)
        self.active = False

    def stop(self):
        if not self.active:
            return
        self.active = False
        try:
            self.rl.run(self._stop(), timeout=5)
        except PortError:
            pass

    async def _stop(self):
        self.gap.stop_all(notify_scan_done=True)
        self.l2cap.reset()
        self.security.reset()
        for link in list(self.links.values()):
            self.drop_link(link, reason=0x16, notify=False)
        await self._close_transport()

    async def _close_transport(self):
        transport, self.transport = self.transport, None
        self.device = None
        if transport is not None:
            try:
                await transport.close()
            except Exception as exc:
                log.debug("closing transport: %r", exc)

    def close(self):
        """Interpreter exit: drop everything silently."""
        self.active = False
        if self.transport is not None and not self.rl.on_loop_thread():
            try:
                self.rl.run(self._close_transport(), timeout=2)
            except Exception:
                pass

    # ---- connections ------------------------------------------------------
    def link(self, conn_handle):
        link = self.links.get(conn_handle)
        if link is None:
            raise PortError(ENOTCONN, "no connection %d" % conn_handle)
        return link

    def add_link(self, connection):
        """A new connection; every part's state for it is ready before API calls can find it."""
        link = Link(self, connection)
        connection.on("disconnection", lambda reason: self.drop_link(link, reason, notify=True))
        connection.on("connection_att_mtu_update", lambda: self.sink.on_mtu_exchanged(link.handle, connection.att_mtu))
        connection.on("connection_parameters_update", lambda: self.gap.on_parameters_update(link))
        self.gattc.attach(link)
        self.security.watch(link)
        self.links[connection.handle] = link
        return link

    def drop_link(self, link, reason, notify):
        if self.links.get(link.handle) is not link:
            return
        del self.links[link.handle]
        link.closed = True
        self.gattc.fail_pending(link, notify)
        self.gatts.on_link_closed(link, notify)
        self.l2cap.on_link_closed(link, notify)
        self.security.on_link_closed(link, notify)
        if notify:
            report = self.sink.on_peripheral_disconnect if link.is_central else self.sink.on_central_disconnect
            report(link.handle, link.peer_addr_type, link.peer_addr)

    # ---- delegation (the Port protocol) ----------------------------------
    def own_address(self):
        if self.rpa:
            raise PortError(EINVAL, "the address is a resolvable private address (addr_mode 2)")
        return (self.own_addr_type, self.own_addr)

    def set_addr_mode(self, mode):
        self.rl.run(self.gap.set_addr_mode(mode))

    def set_gap_name(self, name):
        self.rl.call_soon(self.gatts.set_gap_name, name)

    def set_preferred_mtu(self, mtu):
        self.gatts.preferred_mtu = mtu  # read by exchange_mtu on this thread right away
        self.rl.call_soon(self.gatts.set_preferred_mtu, mtu)

    def set_security(self, settings):
        self.settings.update(settings)

    def tx_power(self):
        return self.gap.tx_power

    def _check_room(self, action):
        """A board profile's connection limit: refuse as that board's stack does when full."""
        limit = self.profile.get("max_connections")
        if limit and action in self.profile.get("full_refuses", ()) and len(self.links) >= limit:
            raise PortError(self.profile["full_errno"], "all %d connections of this board are in use" % limit)

    def advertise(self, interval_us, adv_data, resp_data, connectable, options):
        if interval_us is not None and connectable:
            self._check_room("advertise")
        self.rl.run(self.gap.advertise(interval_us, adv_data, resp_data, connectable, options))

    def is_advertising(self):
        return self.gap.advertising

    def scan(self, duration_ms, interval_us, window_us, active):
        self.rl.run(self.gap.scan(duration_ms, interval_us, window_us, active))

    def connect(self, addr_type, addr, scan_duration_ms, min_interval_us, max_interval_us):
        self._check_room("connect")
        default = self.profile.get("conn_interval_us")
        if default and not min_interval_us and not max_interval_us:
            min_interval_us, max_interval_us = default
        self.rl.run(self.gap.connect(addr_type, addr, scan_duration_ms, min_interval_us, max_interval_us))

    def cancel_connect(self):
        self.rl.run(self.gap.cancel_connect())

    def disconnect(self, conn_handle):
        link = self.link(conn_handle)
        self.rl.spawn(link.disconnect())
        return True

    def connection_update(self, conn_handle, min_us, max_us, latency, timeout_ms):
        link = self.link(conn_handle)
        self.rl.spawn(self.gap.connection_update(link, min_us, max_us, latency, timeout_ms))

    def connection_info(self, conn_handle):
        return self.link(conn_handle).info()

    def register_services(self, services):
        return self.rl.run(self.gatts.register(services))

    def notify(self, conn_handle, value_handle, data):
        link = self.link(conn_handle)
        self.gatts.check_handle(value_handle)
        self.rl.call_soon(self.gatts.notify, link, value_handle, data)

    def indicate(self, conn_handle, value_handle, data):
        link = self.link(conn_handle)
        self.gatts.check_handle(value_handle)
        if link.indications >= MAX_QUEUED_INDICATIONS:
            raise PortError(ENOMEM, "too many indications queued")
        link.indications += 1
        self.rl.call_soon(self.gatts.start_indication, link, value_handle, data)

    def send_update(self, value_handle, data):
        self.rl.call_soon(self.gatts.send_update, value_handle, data)

    def get_cccd(self, conn_handle, value_handle):
        return self.gatts.get_cccd(self.link(conn_handle), value_handle)

    def discover_services(self, conn_handle, uuid):
        self.gattc.start(self.link(conn_handle), "services", uuid)

    def discover_characteristics(self, conn_handle, start, end, uuid):
        self.gattc.start(self.link(conn_handle), "characteristics", start, end, uuid)

    def discover_descriptors(self, conn_handle, start, end):
        self.gattc.start(self.link(conn_handle), "descriptors", start, end)

    def read(self, conn_handle, value_handle):
        self.gattc.start(self.link(conn_handle), "read", value_handle)

    def write(self, conn_handle, value_handle, data, mode):
        link = self.link(conn_handle)
        if mode == 0:
            self.gattc.write_command(link, value_handle, data)
        else:
            self.gattc.start(link, "write", value_handle, data)

    def exchange_mtu(self, conn_handle):
        self.gattc.start(self.link(conn_handle), "mtu", self.gatts.preferred_mtu)
