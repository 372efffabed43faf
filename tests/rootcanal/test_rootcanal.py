"""The GAP, GATT and pairing multitests with every board on Root Canal, an independent controller.

`bleboard air --engine rootcanal` is started as a user would start it; the boards are
ordinary virtual boards that join its address. Skipped only when the rootcanal wheel
is not installed (pip install -e .[test] installs it).
"""

import importlib.util
import os
import re
import subprocess
import sys
import time

import pytest

from bleboard.radio.default import answers
from bleboard.testing.multitest import Runner

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rootcanal") is None, reason="Root Canal is not installed (pip install rootcanal==1.10.0)"
)

MULTI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "multi")
TESTS = [
    "ble_gap_advertise_scan.py",
    "ble_gap_connect_disconnect.py",
    "ble_gap_two_centrals.py",
    "ble_gap_pair.py",
    "ble_gatt_read_write.py",
    "ble_gatt_notify_indicate.py",
    "ble_gatt_mtu_append.py",
    "aioble_gatt.py",
    "aioble_security.py",
]


class Air:
    """`bleboard air --engine rootcanal` in a child process, stopped with SIGTERM."""

    def __init__(self, runtime_dir, listen=None):
        self.runtime_dir = str(runtime_dir)
        self.env = dict(os.environ, BLEBOARD_RUNTIME_DIR=self.runtime_dir)
        for var in ("BLEBOARD_AIR", "BLEBOARD_HCI", "BLEBOARD_LATENCY", "BLEBOARD_BOARD"):
            self.env.pop(var, None)
        self.address = listen or "unix:" + os.path.join(self.runtime_dir, "air.sock")
        command = [sys.executable, "-m", "bleboard", "air", "--engine", "rootcanal", "--verbose"]
        if listen:
            command += ["--listen", listen]
        self.log = open(os.path.join(self.runtime_dir, "air.log"), "w+")
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while not answers(self.address):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("bleboard air --engine rootcanal did not start:\n" + self.output())
            time.sleep(0.05)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def root_canal_port(self):
        found = re.search(r"HCI on tcp 127\.0\.0\.1:(\d+)", self.output())
        assert found, self.output()
        return int(found.group(1))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


@pytest.fixture(scope="module")
def air(tmp_path_factory):
    runtime = tmp_path_factory.mktemp("rc")
    os.chmod(runtime, 0o700)
    server = Air(runtime)
    yield server
    server.stop()
    assert server.process.returncode == 0


@pytest.fixture(scope="module")
def runner(air):
    with Runner(radio=air.address) as r:
        yield r


@pytest.mark.parametrize("name", TESTS)
def test_multitest_on_root_canal(runner, name):
    result = runner.run_test(os.path.join(MULTI, name), [])
    assert result.verdict == "pass", result.failure_report()


OTHERS = sorted(n for n in os.listdir(MULTI) if n.endswith(".py") and os.path.exists(os.path.join(MULTI, n + ".exp"))
                and n not in TESTS)
# Where Root Canal itself differs (docs/rootcanal.md), the file is not run on it.
ROOT_CANAL_DIFFERS = {
    "aioble_advertise_scan.py": "a new active scan may first report a scan response (Root Canal ordering)",
}


@pytest.mark.skipif(not os.environ.get("BLEBOARD_ROOTCANAL_ALL"),
                    reason="the rest of tests/multi on Root Canal takes minutes: set BLEBOARD_ROOTCANAL_ALL=1")
@pytest.mark.parametrize("name", OTHERS)
def test_other_multitests_on_root_canal(runner, name):
    if name in ROOT_CANAL_DIFFERS:
        pytest.skip("Root Canal differs: " + ROOT_CANAL_DIFFERS[name])
    result = runner.run_test(os.path.join(MULTI, name), [])
    assert result.verdict == "pass", result.failure_report()


def test_boards_with_no_setting_join_it(air):
    """A board given only the per-user default directory lands on Root Canal's air."""
    code = (
        "import bluetooth, sys\n"
        "b = bluetooth.BLE(); b.active(True)\n"
        "other = bluetooth.BLE.new(hci=sys.argv[1]); other.active(True)\n"
        "print(b.config('mac')[1][:4] == other.config('mac')[1][:4], b.config('mac') != other.config('mac'))\n"
    )
    spec = "tcp-client:127.0.0.1:%d" % air.root_canal_port()
    out = subprocess.run([sys.executable, "-m", "bleboard", "run", "-c", code, spec],
                         env=air.env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr


RESTART = """
import sys, time, bluetooth
peer = bluetooth.BLE.new(hci=sys.argv[1])  # straight on Root Canal, not through the relay
events = []
peer.irq(lambda e, d: events.append(e))
peer.active(True)
peer.gap_advertise(20000)
board = bluetooth.BLE()  # the relay at the default address
board.active(True)
first = board.config("mac")
board.gap_connect(*peer.config("mac"))
deadline = time.monotonic() + 10
while 1 not in events and time.monotonic() < deadline:
    time.sleep(0.02)
print("connected", 1 in events)
board.active(False)
board.active(True)
print("same address", board.config("mac") == first)
deadline = time.monotonic() + 10
while 2 not in events and time.monotonic() < deadline:
    time.sleep(0.02)
print("peer saw it leave", 2 in events)
"""


def test_board_restart_keeps_address_and_ends_its_connections(air):
    """A board that turns BLE off and on keeps its Root Canal address (its bonds stay valid),
    and the connection it had ends for the peer too (Root Canal's Reset alone leaves it up)."""
    spec = "tcp-client:127.0.0.1:%d" % air.root_canal_port()
    for _ in range(2):
        out = subprocess.run([sys.executable, "-m", "bleboard", "run", "-c", RESTART, spec],
                             env=air.env, capture_output=True, text=True, timeout=90)
        assert out.stdout.splitlines() == ["connected True", "same address True", "peer saw it leave True"], \
            out.stdout + out.stderr


def test_listen_tcp_and_stop_cleanly(tmp_path):
    """--listen tcp: serves boards on other machines; SIGTERM ends Root Canal too."""
    os.chmod(tmp_path, 0o700)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Air(tmp_path, listen="tcp:127.0.0.1:%d" % port)
    try:
        rc_port = server.root_canal_port()
        with Runner(radio=server.address) as r:
            result = r.run_test(os.path.join(MULTI, "ble_gap_connect_disconnect.py"), [])
        assert result.verdict == "pass", result.failure_report()
    finally:
        server.stop()
    assert server.process.returncode == 0
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", rc_port)) != 0  # Root Canal is gone with it


FIRMWARE_TESTS = ["ble_gap_connect_disconnect.py", "ble_gap_pair.py", "ble_gatt_notify_indicate.py", "aioble_gatt.py"]


@pytest.mark.parametrize("name", FIRMWARE_TESTS)
def test_micropython_nimble_firmware_on_root_canal(runner, name):
    """MicroPython's own NimBLE (unix port) against a virtual board, both on Root Canal."""
    from bleboard.testing.instance import InstanceSpec
    from bleboard.tools import firmware_build

    if firmware_build.cached("nimble") is None:
        pytest.skip("the MicroPython unix firmware is not built (bleboard firmware build); not building it here")
    result = runner.run_test(os.path.join(MULTI, name), [InstanceSpec("micropython"), InstanceSpec("virtual")])
    assert result.verdict == "pass", result.failure_report()
