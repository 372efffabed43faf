"""`bleboard run --firmware`: a program on real MicroPython meets a virtual board on one radio."""

import os
import subprocess
import sys

import pytest

from bleboard.testing.radio import PrivateRadio

ADVERTISER = """
import bluetooth, time, sys
ble = bluetooth.BLE()
ble.active(True)
name = sys.argv[1].encode()
ble.gap_advertise(20000, bytes((2, 1, 6, len(name) + 1, 9)) + name)
print("advertising", sys.implementation.name)
sys.stdout.flush() if hasattr(sys.stdout, "flush") else None
time.sleep_ms(4000)
ble.gap_advertise(None)
sys.exit(7)
"""

SCANNER = """
import bluetooth, time
ble = bluetooth.BLE()
found = []
def irq(event, data):
    if event == 5 and b"mp-board" in bytes(data[4]):
        found.append(1)
ble.irq(irq)
ble.active(True)
ble.gap_scan(3000, 20000, 20000)
deadline = time.ticks_add(time.ticks_ms(), 3500)
while not found and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep_ms(20)
ble.gap_scan(None)
print("found", bool(found))
"""


@pytest.fixture
def radio():
    with PrivateRadio("fast") as r:
        yield r


def test_firmware_program_meets_virtual_board(nimble_firmware, radio):
    env = dict(os.environ, BLEBOARD_AIR=radio.addr)
    mp = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "run", "--firmware", "unix-nimble", "-c", ADVERTISER, "mp-board"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert mp.stdout.readline() == "advertising micropython\n"
        scan = subprocess.run([sys.executable, "-m", "bleboard", "run", "-c", SCANNER], capture_output=True,
                              text=True, timeout=60, env=env)
        assert scan.stdout == "found True\n", scan.stderr
        out, err = mp.communicate(timeout=30)
    finally:
        if mp.poll() is None:
            mp.kill()
            mp.wait()
    assert mp.returncode == 7, err  # the firmware's exit status passes through


def test_firmware_option_rejects_unknown_firmware():
    proc = subprocess.run([sys.executable, "-m", "bleboard", "run", "--firmware", "esp32", "-c", "pass"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--firmware must be one of unix-nimble, unix-btstack, not 'esp32'" in proc.stderr
