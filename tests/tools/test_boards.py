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


def test_cli_lists_searches_and_describes():
    r = run_cli("boards")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(boards.load())
    r = run_cli("boards", "nrf52833")
    assert r.returncode == 0 and "pca10100_nrf52833_dk" in r.stdout and "rp2040" not in r.stdout
    r = run_cli("boards", "raspberry_pi_pico_w")
    assert "CYW43439" in r.stdout and "0xe48bff56" in r.stdout
    r = run_cli("boards", "zzqx")
    assert r.returncode == 1 and "unknown board" in r.stderr
