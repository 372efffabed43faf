"""Zero configuration: the per-user default radio, auto-started once, gone when idle; open_hci's errors."""

import asyncio
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest
from radio_helpers import host, run

from bleboard.radio import default
from bleboard.radio.errors import HCISpecError, HCITransportError
from bleboard.radio.transport import check_spec, open_hci

CLIENT = str(pathlib.Path(__file__).with_name("air_client.py"))


@pytest.fixture
def runtime_dir(monkeypatch):
    path = tempfile.mkdtemp(prefix="bbdef-", dir="/tmp")
    monkeypatch.setenv(default.ENV_RUNTIME_DIR, os.path.join(path, "rt"))
    monkeypatch.delenv(default.ENV_AIR, raising=False)
    monkeypatch.delenv("BLEBOARD_HCI", raising=False)
    monkeypatch.setenv(default.ENV_IDLE_EXIT, "1")
    yield os.path.join(path, "rt")
    for pid in air_servers(os.path.join(path, "rt")):  # never leave a server behind
        os.kill(pid, 9)
    shutil.rmtree(path, ignore_errors=True)


def air_servers(directory):
    """PIDs of `bleboard air` processes serving the default socket in `directory`."""
    wanted = "unix:" + os.path.join(directory, default.SOCKET_NAME)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"air" in argv and wanted.encode() in argv:
            found.append(int(entry))
    return found


def wait_until(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_three_boards_starting_at_once_share_one_auto_started_radio(runtime_dir):
    clients = [
        subprocess.Popen(
            [sys.executable, CLIENT, "default"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        lines = [client.stdout.readline() for client in clients]
        assert all(line.startswith("ready ") for line in lines), [c.stderr.read() for c in clients if c.poll()]
        # Each radio numbers its controllers from 1: three different public
        # addresses mean the three boards joined the same radio.
        assert len({line.split()[1] for line in lines}) == 3
        servers = air_servers(runtime_dir)
        assert len(servers) == 1, servers
        info = os.stat(runtime_dir)
        assert stat.S_IMODE(info.st_mode) == 0o700
    finally:
        for client in clients:
            client.stdin.close()
            client.wait(10)
            client.stdout.close()
            client.stderr.close()
    # Idle (BLEBOARD_AIR_IDLE_EXIT=1 s after the last board left): the radio exits and cleans up.
    wait_until(lambda: not air_servers(runtime_dir), what="the idle radio to exit")
    assert not os.path.exists(os.path.join(runtime_dir, default.SOCKET_NAME))


def test_ensure_default_radio_reuses_a_running_radio(runtime_dir):
    address = default.ensure_default_radio()
    assert address == default.air_address() == "unix:" + os.path.join(runtime_dir, default.SOCKET_NAME)
    first = air_servers(runtime_dir)
    assert default.ensure_default_radio() == address
    assert air_servers(runtime_dir) == first and len(first) == 1


def test_explicit_air_address_that_does_not_answer_is_an_error(runtime_dir, monkeypatch):
    missing = os.path.join(runtime_dir, "nobody.sock")
    monkeypatch.setenv(default.ENV_AIR, "unix:" + missing)
    assert default.air_address() == "unix:" + missing

    @run
    async def attempt():
        with pytest.raises(HCITransportError, match="BLEBOARD_AIR=unix:.*does not answer"):
            await open_hci()

    attempt()
    with pytest.raises(HCITransportError, match="does not answer"):
        default.ensure_default_radio()
    assert not air_servers(runtime_dir) and not os.path.exists(missing)


def test_bad_air_address_names_itself(monkeypatch):
    monkeypatch.setenv(default.ENV_AIR, "bluetooth:somewhere")
    with pytest.raises(HCISpecError, match="bluetooth:somewhere"):
        default.bumble_spec(default.air_address())


def test_tcp_air_address_maps_to_bumble_tcp_client():
    assert default.bumble_spec("tcp:127.0.0.1:9000") == "tcp-client:127.0.0.1:9000"
    assert default.bumble_spec("unix:/x/y") == "unix:/x/y"


@pytest.mark.parametrize("spec", ["", "bogus:1", "usb", "serial:", "tcp-client"])
def test_malformed_hci_spec_is_a_value_error(spec):
    with pytest.raises(HCISpecError):
        check_spec(spec)

    @run
    async def attempt():
        with pytest.raises(ValueError):
            await open_hci(spec)

    attempt()


@pytest.mark.parametrize(
    "spec", ["serial:/dev/bleboard-no-such-tty,1000000,rtscts", "tcp-client:127.0.0.1:{port}", "unix:/nonexistent/x"]
)
def test_unreachable_controller_is_an_os_error(spec):
    with socket.socket() as finder:  # a port nobody listens on
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]

    @run
    async def attempt():
        with pytest.raises(HCITransportError, match="cannot open"):
            await open_hci(spec.format(port=port))

    attempt()


def test_bleboard_hci_env_picks_the_controller(monkeypatch, runtime_dir):
    # A real controller on a spec: here the shared radio spoken to with a plain Bumble spec.
    address = default.ensure_default_radio()
    monkeypatch.setenv("BLEBOARD_HCI", default.bumble_spec(address))
    monkeypatch.setenv(default.ENV_AIR, "unix:/nonexistent/never-used")

    @run
    async def attempt():
        device = await host(transport=await open_hci())
        assert device.public_address.to_string(False).startswith("00:B1:EB")
        await device.transport.close()

    attempt()


def test_open_hci_with_radio_attaches_in_process():
    from bleboard.radio.local import LocalRadio

    @run
    async def attempt():
        radio = LocalRadio("fast")
        transport = await open_hci(radio=radio)
        device = await host(transport=transport)
        assert radio.controllers == [transport.controller]
        await asyncio.wait_for(transport.close(), 1)
        assert radio.controllers == []
        assert device.public_address.to_string(False) == "00:B1:EB:00:00:01"  # given by the radio

    attempt()


def test_transport_loss_reaches_the_host_only_when_the_radio_goes(runtime_dir):
    """Closing our own transport is not a loss; the radio server dying is, reported once."""
    address = default.ensure_default_radio()

    @run
    async def scenario():
        mine = await host(transport=await open_hci())
        flushed = []
        mine.host.on("flush", lambda: flushed.append("closed"))
        await mine.transport.close()
        await mine.transport.source.terminated
        await asyncio.sleep(0)
        assert flushed == []

        other = await host(transport=await open_hci())
        other.host.on("flush", lambda: flushed.append("lost"))
        for pid in air_servers(runtime_dir):
            os.kill(pid, 9)  # the radio goes away under the board
        await other.transport.source.terminated
        await asyncio.sleep(0)
        assert flushed == ["lost"]

    assert address
    scenario()


def test_report_transport_lost_survives_an_answered_pending_command():
    """Bumble's Host fails its pending future even when done; the guard prevents InvalidStateError."""
    from bumble.host import Host

    from bleboard.radio.transport import report_transport_lost

    @run
    async def scenario():
        bumble_host = Host()
        flushed = []
        bumble_host.on("flush", lambda: flushed.append(True))
        answered = asyncio.get_running_loop().create_future()
        answered.set_result("Command Complete")
        bumble_host.pending_response = answered
        report_transport_lost(bumble_host)
        assert flushed == [True]

    scenario()
