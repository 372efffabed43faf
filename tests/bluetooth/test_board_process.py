"""A virtual board as a process: btsnoop capture, and the radio going away under it."""

import os
import signal
import subprocess
import sys
import time


def start_air(tmp_path):
    sock = tmp_path / "air.sock"
    air = subprocess.Popen([sys.executable, "-m", "bleboard", "air", "--listen", "unix:%s" % sock],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, "radio did not start"
        time.sleep(0.02)
    return air, "unix:%s" % sock


def board_env(air_address):
    return dict(os.environ, BLEBOARD_AIR=air_address, PYTHONUNBUFFERED="1")


def test_snoop_capture_is_a_btsnoop_file(tmp_path):
    air, address = start_air(tmp_path)
    try:
        capture = tmp_path / "board.log"
        code = "import bluetooth; b = bluetooth.BLE(); b.active(1); b.gap_advertise(20000, b'\\x02\\x01\\x06'); print('ok')"
        out = subprocess.run([sys.executable, "-m", "bleboard", "run", "--snoop", str(capture), "-c", code],
                             env=board_env(address), capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout == "ok\n" and out.stderr == ""
        data = capture.read_bytes()
        assert data[:8] == b"btsnoop\x00"
        assert int.from_bytes(data[12:16], "big") == 1002  # HCI UART (H4) datalink
        assert len(data) > 16 + 24 * 10  # header plus a few dozen packet records
    finally:
        air.terminate()
        air.wait(5)


def test_radio_death_is_reported_and_calls_fail(tmp_path):
    air, address = start_air(tmp_path)
    code = """
import sys, time, bluetooth
ble = bluetooth.BLE()
ble.active(1)
print("up", ble.active())
sys.stdin.readline()  # the test kills the radio now
deadline = time.time() + 5
while ble.active() and time.time() < deadline:
    time.sleep(0.01)
print("active after loss", ble.active())
try:
    ble.gap_scan(100)
except OSError as e:
    print("gap_scan", e.errno)
"""
    board = subprocess.Popen([sys.executable, "-m", "bleboard", "run", "-c", code], env=board_env(address),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert board.stdout.readline() == "up True\n"
        air.send_signal(signal.SIGKILL)
        air.wait(5)
        board.stdin.write("\n")
        board.stdin.flush()
        out, err = board.communicate(timeout=20)
    finally:
        board.kill()
        air.kill()
    assert out == "active after loss False\ngap_scan 19\n"
    assert "lost the radio" in err
    assert board.returncode == 0


def test_latency_picks_its_own_default_radio(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLEBOARD_")}
    env.update(BLEBOARD_RUNTIME_DIR=str(tmp_path), BLEBOARD_AIR_IDLE_EXIT="1")
    code = "import bluetooth; b = bluetooth.BLE(); b.active(1); print(b.config('mac')[0])"
    out = subprocess.run([sys.executable, "-m", "bleboard", "run", "--latency", "fast", "-c", code],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout == "0\n", out.stderr
    assert (tmp_path / "air-fast.sock").exists() and not (tmp_path / "air.sock").exists()
    bad = subprocess.run([sys.executable, "-m", "bleboard", "run", "-c", code],
                         env=dict(env, BLEBOARD_LATENCY="sometimes"), capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "BLEBOARD_LATENCY" in bad.stderr


def test_a_reset_board_keeps_its_address(tmp_path):
    air, address = start_air(tmp_path)
    try:
        code = ("import machine, bluetooth\n"
                "b = bluetooth.BLE(); b.active(1)\n"
                "print(machine.reset_cause(), b.config('mac')[1].hex())\n"
                "if machine.reset_cause() == machine.PWRON_RESET:\n"
                "    machine.reset()\n")
        out = subprocess.run([sys.executable, "-m", "bleboard", "run", "-c", code], env=board_env(address),
                             capture_output=True, text=True, timeout=30)
        first, second = out.stdout.split("\n")[:2]
        assert first.split()[0] != second.split()[0]  # a power-on, then the reset
        assert first.split()[1] == second.split()[1]
    finally:
        air.terminate()
        air.wait(5)
