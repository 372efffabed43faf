"""Controllers of the shared radio behind ptys: H4 hosts on a serial port join the air of `bleboard run`."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest
import serial
from bumble import hci
from bumble.core import AdvertisingData
from bumble.snoop import Snooper
from bumble.transport import open_transport
from radio_helpers import host, run, wait_event

from bleboard.radio.default import answers
from bleboard.radio.errors import HCISpecError, HCITransportError
from bleboard.radio.pty_controller import MICROPYBTUART, open_pty_controller
from bleboard.radio.snoop import read_records
from bleboard.radio.transport import open_hci

STEP = 10.0  # seconds any one step may take
RESET = bytes([0x01, 0x03, 0x0C, 0x00])
RESET_COMPLETE = bytes([0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])


@pytest.fixture
def radio():
    """A private `bleboard air` for the test, as a user runs one: returns its address."""
    directory = tempfile.mkdtemp(prefix="bbpty-", dir="/tmp")  # short: unix socket paths are limited
    path = os.path.join(directory, "air.sock")
    process = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "air", "--listen", "unix:" + path, "--latency", "fast"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        for _ in range(1000):  # the server's only readiness signal is its socket
            if answers("unix:" + path) or process.poll() is not None:
                break
            try:
                process.wait(0.01)
            except subprocess.TimeoutExpired:
                pass
        assert process.poll() is None, process.stderr.read()
        process.address = "unix:" + path
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
        process.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_h4_bytes_reach_a_controller_of_the_radio(radio):
    with open_pty_controller(radio.address) as controller:
        assert controller.env() == {MICROPYBTUART: controller.path}
        with serial.Serial(controller.path, 115200, timeout=STEP) as port:
            port.write(RESET)
            assert port.read(7) == RESET_COMPLETE
            port.write(bytes([0x01, 0x09, 0x10, 0x00]))  # Read BD_ADDR
            reply = port.read(13)
        assert reply[:7] == bytes([0x04, 0x0E, 0x0A, 0x01, 0x09, 0x10, 0x00])
        assert ":".join("%02X" % b for b in reversed(reply[7:])) == controller.address
    assert controller.closed and controller.reason == "closed"


def test_snoop_records_the_hosts_exchange(radio, tmp_path):
    capture = str(tmp_path / "host.btsnoop")
    with open_pty_controller(radio.address, snoop=capture) as controller:
        with serial.Serial(controller.path, 115200, timeout=STEP) as port:
            port.write(RESET)
            assert port.read(7) == RESET_COMPLETE
            port.write(b"\x01\x09\x10")  # Read BD_ADDR, split over two writes
            port.write(b"\x00")
            replies = RESET_COMPLETE + port.read(13)
    assert read_records(capture) == [
        (Snooper.Direction.HOST_TO_CONTROLLER, RESET),
        (Snooper.Direction.CONTROLLER_TO_HOST, RESET_COMPLETE),
        (Snooper.Direction.HOST_TO_CONTROLLER, bytes([0x01, 0x09, 0x10, 0x00])),
        (Snooper.Direction.CONTROLLER_TO_HOST, replies[7:]),
    ]


def test_a_snoop_file_that_cannot_be_written_is_an_oserror(radio, tmp_path):
    with pytest.raises(OSError):
        open_pty_controller(radio.address, snoop=str(tmp_path / "missing" / "x.btsnoop"))


def test_two_pty_controllers_have_their_own_addresses(radio):
    with open_pty_controller(radio.address) as a, open_pty_controller(radio.address) as b:
        assert a.path != b.path
        assert a.address != b.address


def test_noise_before_the_host_starts_costs_only_the_bad_bytes(radio):
    with open_pty_controller(radio.address) as controller:
        with serial.Serial(controller.path, 115200, timeout=STEP) as port:
            port.write(b"\x07\x00\xff" + RESET)  # 0x07, 0x00, 0xff are no H4 packet type
            assert port.read(7) == RESET_COMPLETE
        assert not controller.closed  # the radio kept this client


def test_a_pty_host_and_a_socket_host_share_the_air(radio):
    """A Bumble host on the pty (serial transport, as on a UART) advertises; a host on the radio's socket
    (what `bleboard run` boards use) sees it with the controller's public address and connects."""
    with open_pty_controller(radio.address) as controller:

        @run
        async def scenario():
            serial_transport = await open_transport(f"serial:{controller.path},1000000")
            peripheral = await host(transport=serial_transport, name="pty-host")
            central = await host(transport=await open_hci(radio.address), name="socket-host")
            try:
                peripheral.advertising_data = bytes(
                    AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"on-a-pty")])
                )
                await peripheral.start_advertising(
                    own_address_type=hci.OwnAddressType.PUBLIC, auto_restart=False
                )
                await central.start_scanning(active=False)
                (advertisement,) = await wait_event(
                    central, "advertisement",
                    lambda adv: adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) in ("on-a-pty", b"on-a-pty"),
                )  # fmt: skip
                assert str(advertisement.address).split("/")[0] == controller.address
                await central.stop_scanning()
                connection = await central.connect(advertisement.address)
                await connection.disconnect()
            finally:
                await serial_transport.close()
                await central.transport.close()

        scenario()


def test_a_bleboard_run_board_is_heard_on_the_pty(radio):
    """`bleboard run` on BLEBOARD_AIR advertises through MicroPython's API; a host on the pty scans it."""
    program = (
        "import bluetooth, time\n"
        "b = bluetooth.BLE()\n"
        "b.active(True)\n"
        "b.gap_advertise(20000, b'\\x02\\x01\\x06\\x0a\\x09run-board')\n"
        "print('advertising', flush=True)\n"
        "time.sleep(30)\n"
    )
    env = dict(os.environ, BLEBOARD_AIR=radio.address)
    env.pop("BLEBOARD_HCI", None)
    board = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "run", "-c", program],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = board.stdout.readline()
        assert line.strip() == "advertising", line + (board.stderr.read() if board.poll() is not None else "")
        with open_pty_controller(radio.address) as controller:

            @run
            async def scan():
                serial_transport = await open_transport(f"serial:{controller.path},1000000")
                scanner = await host(transport=serial_transport, name="pty-scanner")
                try:
                    await scanner.start_scanning(active=False)
                    await wait_event(
                        scanner, "advertisement",
                        lambda adv: adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) in ("run-board", b"run-board"),
                    )  # fmt: skip
                finally:
                    await serial_transport.close()

            scan()
    finally:
        board.kill()
        board.wait(10)
        board.stdout.close()
        board.stderr.close()


def test_the_radio_going_away_hangs_up_the_pty(radio):
    controller = open_pty_controller(radio.address)
    try:
        port = serial.Serial(controller.path, 115200, timeout=STEP)
        radio.send_signal(signal.SIGTERM)
        assert controller.wait(STEP)
        assert "radio" in controller.reason
        with pytest.raises(serial.SerialException):  # the host's serial port reports the hang-up
            port.read(1)
        port.close()
    finally:
        controller.close()


def test_bad_radio_addresses():
    with pytest.raises(HCISpecError, match="radio address"):
        open_pty_controller("bluetooth:0")
    directory = tempfile.mkdtemp(prefix="bbpty-", dir="/tmp")
    try:
        with pytest.raises(HCITransportError, match="does not answer"):
            open_pty_controller("unix:" + os.path.join(directory, "none.sock"), timeout=1.0)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    with pytest.raises(TypeError, match="radio"):
        open_pty_controller(("localhost", 1))


def test_a_radio_that_accepts_but_never_answers_times_out():
    """A hung server (accepts, never answers Read BD_ADDR) costs the timeout, not a hang."""
    import socket

    directory = tempfile.mkdtemp(prefix="bbpty-", dir="/tmp")
    path = os.path.join(directory, "hung.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(1)  # the kernel completes the connect; nobody ever reads or answers
        with pytest.raises(HCITransportError, match="did not answer Read BD_ADDR"):
            open_pty_controller("unix:" + path, timeout=0.5)
    finally:
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_bleboard_air_pty_prints_the_variable_and_ends_with_its_stdin(radio, tmp_path):
    capture = str(tmp_path / "pty.btsnoop")
    process = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "air", "--pty", "2", "--listen", radio.address, "--snoop", capture],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [process.stdout.readline().strip() for _ in range(2)]
        assert all(line.startswith(MICROPYBTUART + "=/dev/pts/") for line in lines), lines + [process.stderr.read()]
        for line in lines:
            with serial.Serial(line.split("=", 1)[1], 115200, timeout=STEP) as port:
                port.write(RESET)
                assert port.read(7) == RESET_COMPLETE
        process.stdin.close()
        assert process.wait(STEP) == 0, process.stderr.read()
        for n in (1, 2):  # one capture per controller
            assert read_records(f"{capture}.{n}")[:2] == [
                (Snooper.Direction.HOST_TO_CONTROLLER, RESET),
                (Snooper.Direction.CONTROLLER_TO_HOST, RESET_COMPLETE),
            ]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(STEP)
        process.stdout.close()
        process.stderr.close()


def test_bleboard_air_pty_ends_on_sigterm_and_when_the_radio_stops(radio):
    process = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "air", "--pty", "--listen", radio.address],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout.readline().startswith(MICROPYBTUART + "=")
        radio.send_signal(signal.SIGTERM)  # the radio stops: nothing left to relay to
        assert process.wait(STEP) == 1
        assert "radio" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(STEP)
        process.stdout.close()
        process.stderr.close()
