"""Bumble's real serial transport (pyserial, H4, RTS/CTS) against virtual controllers on ptys.

The nearest real thing to an AirLift or an nRF board running hci_uart on
/dev/ttyUSB0: the host opens `serial:/dev/pts/N,1000000,rtscts` and speaks H4
to a controller on the far side of the pty.
"""

import asyncio
import os

import pytest
import serial

from bumble import hci
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.transport import open_transport

from bleboard.tools.hci_pty import PtyRadio, h4_controller

STEP = 10.0  # seconds any one step may take


async def device_on(port, name, address):
    transport = await asyncio.wait_for(open_transport(f"serial:{port},1000000,rtscts"), STEP)
    device = Device.with_hci(name, hci.Address(address), transport.source, transport.sink)
    await asyncio.wait_for(device.power_on(), STEP)
    return device, transport


def test_two_hosts_over_serial_h4_advertise_scan_connect():
    with PtyRadio() as radio:
        ports = [radio.add("peripheral"), radio.add("central")]

        async def main():
            peripheral, t1 = await device_on(ports[0], "periph", "F0:F1:F2:F3:F4:F5")
            central, t2 = await device_on(ports[1], "central", "F0:F1:F2:F3:F4:F6")
            try:
                peripheral.advertising_data = bytes(
                    AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"pty-periph")]))
                await peripheral.start_advertising(auto_restart=False)
                seen = asyncio.get_running_loop().create_future()

                def on_adv(adv):
                    if adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) in ("pty-periph", b"pty-periph") and not seen.done():
                        seen.set_result(adv.address)

                central.on("advertisement", on_adv)
                await central.start_scanning()
                address = await asyncio.wait_for(seen, STEP)
                assert str(address).startswith("F0:F1:F2:F3:F4:F5")
                await central.stop_scanning()
                connection = await asyncio.wait_for(central.connect(address), STEP)
                assert connection.peer_address == address
                await asyncio.wait_for(connection.disconnect(), STEP)
            finally:
                await t1.close()
                await t2.close()

        asyncio.run(main())


def test_controller_side_sees_host_commands_and_reset():
    """What the host sent arrives, byte-parsed, at the controller's state (its advertising data)."""
    with h4_controller() as (port, radio):
        async def main():
            dev, t = await device_on(port, "d", "F0:F1:F2:F3:F4:F7")
            try:
                dev.advertising_data = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"abc")]))
                await dev.start_advertising(auto_restart=False)
            finally:
                await t.close()

        asyncio.run(main())
        controller = radio.controller(port)
        assert str(controller.random_address).startswith("F0:F1:F2:F3:F4:F7")


def test_garbage_on_the_line_is_survived():
    """Line noise before the host starts (a board resetting) must not wedge the controller."""
    with h4_controller() as (port, radio):
        s = serial.Serial(port, 1000000, rtscts=True, timeout=2)
        s.write(b"\x07\x00\xff")  # not an H4 packet type
        s.write(bytes([1, 0x03, 0x0C, 0]))  # HCI_Reset
        reply = s.read(7)
        assert reply == bytes([4, 0x0E, 4, 1, 0x03, 0x0C, 0])  # Command Complete, status success
        s.close()


def test_unplugged_controller_ends_the_host_transport():
    """Pulling the adapter out: the host's serial transport reports itself lost (what the port reacts to)."""
    with PtyRadio() as radio:
        port = radio.add()

        async def main():
            dev, t = await device_on(port, "d", "F0:F1:F2:F3:F4:F8")
            assert not t.source.terminated.done()
            radio.remove(port)  # the USB-serial adapter is pulled out
            await asyncio.wait_for(t.source.terminated, STEP)
            await t.close()

        asyncio.run(main())
        assert port not in [p.path for p in radio._ptys]


def test_micropython_bluetooth_over_serial_h4():
    """A board program (`bleboard run`, MicroPython's bluetooth API) on BLEBOARD_HCI=serial:... is heard
    by a Bumble host on another pty of the same air: the whole stack over a UART-style controller."""
    import subprocess
    import sys

    program = (
        "import bluetooth, time\n"
        "b = bluetooth.BLE()\n"
        "b.active(True)\n"
        "b.gap_advertise(20000, b'\\x02\\x01\\x06\\x0a\\x09pty-board')\n"
        "print('advertising', flush=True)\n"
        "time.sleep(30)\n"
    )
    with PtyRadio() as radio:
        board_port, host_port = radio.add("board"), radio.add("host")
        env = dict(os.environ, BLEBOARD_HCI=f"serial:{board_port},1000000,rtscts")
        proc = subprocess.Popen([sys.executable, "-m", "bleboard", "run", "-c", program], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "advertising", proc.stderr.read() if proc.poll() is not None else ""

            async def main():
                host, t = await device_on(host_port, "host", "F0:F1:F2:F3:F4:F9")
                try:
                    seen = asyncio.get_running_loop().create_future()

                    def on_adv(adv):
                        if adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) in ("pty-board", b"pty-board") \
                                and not seen.done():
                            seen.set_result(adv)

                    host.on("advertisement", on_adv)
                    await host.start_scanning()
                    await asyncio.wait_for(seen, STEP)
                finally:
                    await t.close()

            asyncio.run(main())
        finally:
            proc.kill()
            proc.wait(5)
            proc.stdout.close()
            proc.stderr.close()


def test_pty_board_on_a_serial_controller():
    """mpremote -> pty REPL -> bluetooth -> Bumble -> serial H4 -> controller: `bleboard board --hci`."""
    import shutil
    import subprocess

    from bleboard.tools import pty_board

    mpremote = shutil.which("mpremote")
    if mpremote is None:
        pytest.skip("mpremote is not installed")
    with PtyRadio() as radio:
        port = radio.add("board-controller")
        address = radio.controller(port).public_address
        with pty_board.running_board(extra_args=("--hci", f"serial:{port},1000000,rtscts")) as (path, _):
            r = subprocess.run([mpremote, "connect", path, "exec",
                                "import bluetooth\nb = bluetooth.BLE()\nb.active(True)\n"
                                "print(':'.join('%02X' % x for x in b.config('mac')[1]))\nb.active(False)"],
                               capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == str(address).split("/")[0]
