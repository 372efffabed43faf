"""The serial controller path, against the nearest real thing: a pty speaking H4.

A virtual controller sits behind the master side of a pseudo-terminal; the
host opens the slave side through open_hci("serial:...") exactly as it would
open a UART controller (nRF hci_uart, AirLift), with baud rate and RTS/CTS.
"""

import asyncio
import os
import tty

import pytest
from bumble import core
from bumble.transport.common import PacketParser
from radio_helpers import host, run

from bleboard.radio.controller import VirtualController
from bleboard.radio.link import AirLink
from bleboard.radio.transport import open_hci


class PtyController:
    """A VirtualController reading and writing H4 on a pty master."""

    def __init__(self, link):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_path = os.ttyname(slave)
        self.slave = slave  # kept open so the pty survives until the host opens it
        self.controller = VirtualController("uart", link)
        self.controller.host = self
        self.parser = PacketParser(self.controller)
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def on_packet(self, packet):
        os.write(self.master, packet)

    def _readable(self):
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        for byte in data:  # a UART controller skips what is not H4 (e.g. resync padding)
            try:
                self.parser.feed_data(bytes([byte]))
            except core.InvalidPacketError:
                pass

    def close(self):
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self.slave)


@pytest.mark.parametrize("options", [",1000000,rtscts", ",115200,rtscts,resync"])
@run
async def test_host_over_a_serial_h4_controller(options):
    link = AirLink("fast")
    uart = PtyController(link)
    try:
        transport = await open_hci(f"serial:{uart.slave_path}{options}")
        device = await host(transport=transport)
        assert device.public_address.to_string(False) == uart.controller.public_address.to_string(False)
        await device.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        assert uart.controller.is_advertising
        await transport.close()
    finally:
        uart.close()
