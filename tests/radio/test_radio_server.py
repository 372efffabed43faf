"""`bleboard air` as a real subprocess, with hosts in this process and in others."""

import asyncio
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from bumble import hci
from radio_helpers import host, run, wait_event

from bleboard.radio.transport import open_hci

CLIENT = str(pathlib.Path(__file__).with_name("air_client.py"))
E = hci.HCI_ErrorCode


def wait_until(predicate, timeout=10.0, what="condition"):
    """Poll a cheap predicate (file exists, process ended) with a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="bbair-", dir="/tmp")  # short: unix socket paths are limited
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start_server(address, *extra):
    process = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "air", "--listen", address, *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    return process


def _serve(directory):
    path = os.path.join(directory, "air.sock")
    process = start_server("unix:" + path)
    wait_until(lambda: os.path.exists(path) or process.poll() is not None, what="the socket")
    assert process.poll() is None, process.communicate()
    process.path = path
    return process


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    process.stdout.close()
    process.stderr.close()


@pytest.fixture(scope="module")
def shared_server():
    """One server for several tests in a row, as a developer's radio serves test after test."""
    directory = tempfile.mkdtemp(prefix="bbair-", dir="/tmp")
    process = _serve(directory)
    yield process
    _stop(process)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(workdir):
    process = _serve(workdir)
    yield process
    _stop(process)


def start_client(spec, *args, env=None):
    process = subprocess.Popen(
        [sys.executable, CLIENT, spec, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    return process


def client_ready(process):
    line = process.stdout.readline()
    assert line.startswith("ready "), line + process.stderr.read()
    _, public, random = line.split()
    return hci.Address(public, hci.Address.PUBLIC_DEVICE_ADDRESS), hci.Address(random)


def test_two_hosts_in_this_process_exchange_data(shared_server):
    @run
    async def scenario():
        a = await host(transport=await open_hci("unix:" + shared_server.path))
        b = await host(transport=await open_hci("unix:" + shared_server.path))
        assert a.public_address != b.public_address
        await a.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        connection = await b.connect(a.random_address)
        received = asyncio.get_running_loop().create_future()
        a.l2cap_channel_manager.register_fixed_channel(0x70, lambda handle, pdu: received.set_result(bytes(pdu)))
        connection.send_l2cap_pdu(0x70, b"over the air" * 40)
        assert await received == b"over the air" * 40
        await connection.disconnect()
        await a.transport.close()
        await b.transport.close()

    scenario()
    assert shared_server.poll() is None


def test_client_killed_with_sigkill_then_the_next_one(shared_server):
    @run
    async def scenario():
        central = await host(transport=await open_hci("unix:" + shared_server.path))
        for _ in range(2):
            peripheral = start_client("unix:" + shared_server.path, "advertise")
            try:
                _, random = await asyncio.to_thread(client_ready, peripheral)
                connection = await central.connect(random, timeout=5)
                lost = asyncio.ensure_future(wait_event(connection, "disconnection"))
                peripheral.send_signal(signal.SIGKILL)
                assert await lost == (E.CONNECTION_TIMEOUT_ERROR,)
            finally:
                peripheral.kill()
                peripheral.wait(10)
                for stream in (peripheral.stdin, peripheral.stdout, peripheral.stderr):
                    stream.close()
        await central.transport.close()

    scenario()
    assert shared_server.poll() is None


def test_hosts_in_separate_processes_see_each_other(shared_server):
    a = start_client("unix:" + shared_server.path, "advertise")
    b = start_client("unix:" + shared_server.path, "advertise")
    try:
        addresses = {client_ready(a)[0], client_ready(b)[0]}
        assert len(addresses) == 2

        @run
        async def scan():
            scanner = await host(transport=await open_hci("unix:" + shared_server.path))
            seen = set()
            done = asyncio.Event()

            def on_report(report):
                seen.add(report.address)
                if len(seen) >= 2:
                    done.set()

            scanner.host.on("advertising_report", on_report)
            await scanner.start_scanning(active=False)
            await done.wait()
            await scanner.transport.close()

        scan()
    finally:
        for client in (a, b):
            client.stdin.close()
            assert client.wait(10) == 0
            client.stdout.close()
            client.stderr.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_removes_the_socket_and_logs_nothing(server, signum):
    client = start_client("unix:" + server.path)
    client_ready(client)
    client.stdin.close()
    client.wait(10)
    client.stdout.close()
    client.stderr.close()
    server.send_signal(signum)
    assert server.wait(10) == 0
    assert not os.path.exists(server.path)
    assert server.stderr.read() == b"" and server.stdout.read() == b""


def test_idle_exit_waits_for_the_last_client(workdir):
    path = os.path.join(workdir, "air.sock")
    process = start_server("unix:" + path, "--idle-exit", "0.5")
    wait_until(lambda: os.path.exists(path), what="the socket")
    # A raw H4 connection is a client too (a controller waiting for its host).
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(path)
        time.sleep(1.0)  # twice --idle-exit: a connected client keeps the radio up
        assert process.poll() is None
    assert process.wait(10) == 0
    assert not os.path.exists(path)
    process.stdout.close()
    process.stderr.close()


def test_second_server_on_the_same_path_is_refused(server):
    second = start_server("unix:" + server.path)
    assert second.wait(10) == 1
    assert b"already serves" in second.stderr.read()
    quiet = start_server("unix:" + server.path, "--auto")
    assert quiet.wait(10) == 0
    assert quiet.stderr.read() == b""
    for process in (second, quiet):
        process.stdout.close()
        process.stderr.close()
    assert os.path.exists(server.path) and server.poll() is None


def test_stale_socket_of_a_killed_server_is_replaced(workdir):
    path = os.path.join(workdir, "air.sock")
    first = start_server("unix:" + path)
    wait_until(lambda: os.path.exists(path), what="the socket")
    first.kill()
    first.wait(10)
    assert os.path.exists(path)  # left behind, nobody listening
    second = start_server("unix:" + path)
    try:
        wait_until(lambda: second.poll() is not None or _connects(path), what="the new server")
        assert second.poll() is None
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(10) == 0
        for process in (first, second):
            process.stdout.close()
            process.stderr.close()


def _connects(path):
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
            return True
        except OSError:
            return False


def test_tcp_listen_address(workdir):
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    process = start_server(f"tcp:127.0.0.1:{port}", "--latency", "fast")
    try:

        @run
        async def scenario():
            for _ in range(200):  # the server needs a moment to bind
                try:
                    transport = await open_hci(f"tcp-client:127.0.0.1:{port}")
                    break
                except OSError:
                    await asyncio.sleep(0.02)
            device = await host(transport=transport)
            assert device.public_address != hci.Address.ANY
            await transport.close()

        scenario()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize("address", ["udp:1.2.3.4:5", "unix:", "tcp:localhost", "tcp:host:99999"])
def test_bad_listen_address_is_a_usage_error(address):
    process = start_server(address)
    assert process.wait(10) == 2
    assert b"address" in process.stderr.read()
    process.stdout.close()
    process.stderr.close()


def test_a_client_speaking_garbage_is_dropped_and_the_server_goes_on(shared_server):
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(shared_server.path)
        client.sendall(b"\xffnot H4 at all")
        assert client.recv(100) == b""  # the server closed this connection
    # A well-behaved client right after is served normally.
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(shared_server.path)
        client.sendall(bytes([0x01, 0x03, 0x0C, 0x00]))  # HCI_Reset
        answer = client.recv(100)
        assert answer[:2] == bytes([0x04, 0x0E]) and answer[4:7] == bytes([0x03, 0x0C, 0x00])
    assert shared_server.poll() is None


def test_a_board_keeps_its_address_when_it_rejoins(shared_server):
    """BLE().active(False) then True in one process: same board, same public address."""
    rejoining = start_client("unix:" + shared_server.path, "again")
    other = start_client("unix:" + shared_server.path)
    try:
        first = rejoining.stdout.readline().split()
        assert first[0] == "first", first
        public, _ = client_ready(rejoining)
        assert public.to_string(False) == first[1]
        assert client_ready(other)[0] != public
    finally:
        for client in (rejoining, other):
            client.stdin.close()
            client.wait(10)
            client.stdout.close()
            client.stderr.close()
