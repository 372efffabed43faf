"""The unix firmware build: what it contains, how the cache is keyed, and the command's errors."""

import os
import subprocess
import sys

import pytest

from bleboard.tools import firmware_build

MICROPY_ONLY_FROZEN = {"MICROPYPATH": ".frozen"}  # nothing from the filesystem: only what was frozen in


def run_firmware(binary, code, timeout=30):
    env = dict(os.environ, **MICROPY_ONLY_FROZEN)
    env.pop("MICROPYBTUART", None)
    return subprocess.run([binary, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)


def test_nimble_firmware_has_bluetooth_and_frozen_libraries(nimble_firmware):
    proc = run_firmware(
        nimble_firmware,
        "import sys, bluetooth, asyncio, aioble, _bleio\n"
        "from aioble import central, peripheral, server, client, l2cap, security\n"
        "print(sys.implementation.name, sys.implementation.version[:2])\n"
        "print(hasattr(bluetooth.BLE(), 'l2cap_listen'), hasattr(bluetooth.BLE(), 'gap_pair'))\n"
        "print(type(_bleio.adapter).__name__ if hasattr(_bleio, 'adapter') else 'no adapter')\n",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "micropython (1, 28)"
    assert lines[1] == "True True"  # NimBLE on unix: L2CAP channels and pairing are built in


def test_btstack_firmware_has_bluetooth_and_frozen_libraries(btstack_firmware):
    proc = run_firmware(btstack_firmware, "import bluetooth, aioble, _bleio\nprint(hasattr(bluetooth.BLE(), 'gap_pair'))")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["True"]


def test_libraries_come_from_the_frozen_image(nimble_firmware, tmp_path):
    # The path holds nothing but the frozen image ('' is an empty directory here), so the
    # imports can only be answered from what the build froze in.
    env = dict(os.environ, MICROPYPATH=".frozen")
    code = "import sys, aioble.core as c, _bleio\nprint(c.__file__, sys.path)"
    proc = subprocess.run([nimble_firmware, "-c", code], capture_output=True, text=True, timeout=30, cwd=tmp_path,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(" ", 1) == ["aioble/core.py", "['', '.frozen']\n"]


def test_build_key_follows_stack_and_frozen_sources(micropython_source, tmp_path, monkeypatch):
    key_n = firmware_build.build_key(micropython_source, "unix", "nimble")
    assert key_n == firmware_build.build_key(micropython_source, "unix", "nimble")
    key_b = firmware_build.build_key(micropython_source, "unix", "btstack")
    assert key_n != key_b and key_n.startswith("unix-nimble-") and key_b.startswith("unix-btstack-")
    files = firmware_build.frozen_files()
    assert any(f.endswith(os.path.join("src", "aioble", "core.py")) for f in files)
    assert any(f.endswith(os.path.join("ports", "unix-ble", "nimble", "mpconfigvariant.mk")) for f in files)
    # Another source gives another key.
    other = tmp_path / "mp"
    (other / "py").mkdir(parents=True)
    (other / "py" / "mpconfig.h").write_text("// a different tree\n")
    assert firmware_build.build_key(str(other), "unix", "nimble") != key_n


def test_cached_binary_is_reused(nimble_firmware):
    assert firmware_build.cached("nimble") in (nimble_firmware, None)  # None only if src/ changed meanwhile
    info = firmware_build.build_info(nimble_firmware)
    assert info["stack"] == "nimble" and info["seconds"] > 0


def bleboard(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "bleboard", *argv], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize(
    "argv, status, message",
    [
        (["firmware", "build", "--stack", "bluez"], 2, "stack must be one of nimble, btstack, not 'bluez'"),
        (["firmware", "build", "--port", "esp32"], 2, "port must be one of unix, not 'esp32'"),
        (["firmware", "build", "-j", "0"], 2, "--jobs must be at least 1, not 0"),
    ],
)
def test_command_rejects_bad_arguments(argv, status, message):
    proc = bleboard(*argv)
    assert proc.returncode == status and message in proc.stderr, proc.stderr


def test_command_names_missing_source(tmp_path):
    env = dict(os.environ, MICROPY_DIR=str(tmp_path / "nowhere"), BLEBOARD_FIRMWARE_CACHE=str(tmp_path / "cache"))
    proc = bleboard("firmware", "build", env=env)
    assert proc.returncode == 1
    assert "MicroPython source %s does not exist" % (tmp_path / "nowhere") in proc.stderr


def test_path_command_prints_the_cached_binary(nimble_firmware):
    proc = bleboard("firmware", "path", "--stack", "nimble")
    if proc.returncode == 1:
        pytest.skip("src/ changed since the fixture built the firmware")
    assert proc.returncode == 0 and proc.stdout.strip() == nimble_firmware
