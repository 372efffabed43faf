"""The board database against the seed's board list (spec/_bleio-api.txt)."""

import subprocess
import sys
from pathlib import Path

import pytest

from bleboard.tools import boards

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "spec" / "_bleio-api.txt"


def seed_board_names():
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    names = []
    for line in lines[lines.index("Available on these boards") + 1:]:
        if line.startswith("  • "):
            names.append(line[4:].strip())
        elif line.strip():
            break
    return names


@pytest.mark.skipif(not SPEC.exists(), reason=f"seed spec not found at {SPEC} (CI keeps ../shared beside the checkout)")
def test_every_seed_board_is_present():
    names = seed_board_names()
    assert len(names) > 200
    have = {b["name"] for b in boards.load()}
    missing = [n for n in names if n not in have]
    assert not missing, f"boards missing from the database: {missing}"


def test_every_record_is_well_formed():
    ids = [b["id"] for b in boards.load()]
    assert len(ids) == len(set(ids)), "board ids must be unique"
    problems = {b["id"]: boards.check(b) for b in boards.load() if boards.check(b)}
    assert not problems


def test_check_catches_bad_records():
    good = dict(boards.get("adafruit_feather_nrf52840_express"))
    assert boards.check(good) == []
    assert "uf2_family" in " ".join(boards.check({**good, "uf2_family": "nope"}))
    assert boards.check({**good, "chip": "rp2040"})  # chip/family mismatch
    assert boards.check({**good, "flash": ["carrier-pigeon"]})


def test_known_facts():
    clue = boards.get("Adafruit CLUE nRF52840 Express")
    assert (clue["chip"], clue["ble"], clue["uf2_family"]) == ("nrf52840", "nrf52-softdevice", "0xada52840")
    picow = boards.get("raspberry_pi_pico_w")
    assert picow["ble"] == "cyw43-btstack" and picow["uf2_family"] == "0xe48bff56"
    airlift = boards.get("adafruit_metro_m4_airlift_lite")
    assert airlift["ble"] == "hci-uart" and "AirLift" in airlift["hci_coprocessor"]
    assert boards.get("esp32_h2_devkitm_1")["flash"] == ["esptool"]


def test_unknown_board_suggests_closest():
    with pytest.raises(boards.UnknownBoard) as e:
        boards.get("adafruit_feather_nrf52480_express")
    assert "adafruit_feather_nrf52840_express" in str(e.value)


def run_cli(*argv):
    return subprocess.run([sys.executable, "-m", "bleboard", *argv], capture_output=True, text=True, timeout=60)


def test_micropython_board_names_resolve():
    """MicroPython's board names (its firmware files are named after them) are aliases of our rows."""
    assert boards.check_aliases() == []
    expect = {
        "RPI_PICO_W": ("raspberry_pi_pico_w", "rp2040", "cyw43-btstack", "rp2", ["uf2"]),
        "RPI_PICO2_W": ("raspberry_pi_pico2_w", "rp2350", "cyw43-btstack", "rp2", ["uf2"]),
        "ESP32_GENERIC": ("espressif_esp32_devkitc", "esp32", "esp32-nimble", "esp32", ["esptool"]),
        "ESP32_GENERIC_C3": ("espressif_esp32_c3_devkitm_1", "esp32c3", "esp32-nimble", "esp32", ["esptool"]),
        "ESP32_GENERIC_C6": ("espressif_esp32_c6_devkitc_1", "esp32c6", "esp32-nimble", "esp32", ["esptool"]),
        "ESP32_GENERIC_S3": ("esp32_s3_devkitc_1_n8", "esp32s3", "esp32-nimble", "esp32", ["uf2", "esptool"]),
        "ARDUINO_NANO_33_BLE_SENSE": ("arduino_nano_33_ble", "nrf52840", "nrf52-softdevice", "nrf",
                                      ["uf2", "adafruit-nrfutil", "west"]),
        "NUCLEO_WB55": ("nucleo_wb55", "stm32wb55", "stm32wb-nimble", "stm32", ["msd", "dfu-util"]),
        "PYBD_SF6": ("pyboard_d_sf6", "stm32f767", "cyw43-nimble", "stm32", ["dfu-util"]),
    }
    for name, (bid, chip, ble, port, flash) in expect.items():
        for spelling in (name, name.lower()):
            b = boards.get(spelling)
            assert (b["id"], b["chip"], b["ble"], b["firmware"]["micropython"], b["flash"]) == (bid, chip, ble, port, flash)
    assert boards.get("RPI_PICO2_W")["uf2_family"] == "0xe48bff59"
    assert boards.get("ARDUINO_PORTENTA_H7")["flash_address"] == "0x08040000"  # after Arduino's bootloader
    # every row's own MicroPython build name resolves to that row (or to a row of the same build)
    for b in boards.load():
        if b.get("micropython_board"):
            assert boards.get(b["micropython_board"])["micropython_board"] == b["micropython_board"]


def test_check_aliases_catches_bad_names(monkeypatch):
    boards.load()  # read the file first, so the patched table is the one checked
    monkeypatch.setattr(boards, "_aliases", {"rpi_pico_w": "raspberry_pi_pico_w", "NOPE": "no_such_board",
                                             "PIZERO": "raspberry_pi_zero"})
    problems = " | ".join(boards.check_aliases())
    assert "'rpi_pico_w' is not upper case" in problems
    assert "unknown board 'no_such_board'" in problems
    assert "raspberry_pi_zero, which has no MicroPython port" in problems


def test_cli_lists_searches_and_describes():
    r = run_cli("boards")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(boards.load()) + 1
    assert lines[0].split() == ["ID", "CHIP", "BLE", "FLASH", "NAME"]
    starts = [lines[0].index(title) for title in ("CHIP", "BLE", "FLASH", "NAME")]
    for line in lines[1:]:  # aligned: every column starts under its title, after a gap
        assert all(line[s - 2:s] == "  " and line[s] != " " for s in starts), line
    r = run_cli("boards", "ESP32_GENERIC_C6")
    assert r.returncode == 0 and "esp32c6" in r.stdout and "(board ESP32_GENERIC_C6)" in r.stdout
    r = run_cli("boards", "nrf52833")
    assert r.returncode == 0 and "pca10100_nrf52833_dk" in r.stdout and "rp2040" not in r.stdout
    r = run_cli("boards", "raspberry_pi_pico_w")
    assert "CYW43439" in r.stdout and "0xe48bff56" in r.stdout
    r = run_cli("boards", "zzqx")
    assert r.returncode == 1 and "unknown board" in r.stderr
