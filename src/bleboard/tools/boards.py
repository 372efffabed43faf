"""The board database: which chip a board has, how it does BLE, how it is flashed.

The data lives in boards.json beside this module so it ships with the
package; boards/README.md in the repository documents every field.
"""

import difflib
import json
import os

_PATH = os.path.join(os.path.dirname(__file__), "boards.json")

# the vocabulary each field may use; the test checks every record against it
CHIPS = {
    "nrf52840": "nrf52", "nrf52833": "nrf52", "nrf52832": "nrf52",
    "esp32": "esp32", "esp32s3": "esp32", "esp32h2": "esp32",
    "esp32c2": "esp32", "esp32c3": "esp32", "esp32c5": "esp32", "esp32c6": "esp32",
    "rp2040": "rp2", "rp2350": "rp2",
    "samd51": "samd", "same51": "samd", "same54": "samd",
    "stm32f405": "stm32", "stm32f411": "stm32", "stm32f412": "stm32",
    "stm32f746": "stm32", "stm32f767": "stm32", "stm32h743": "stm32",
    "stm32f722": "stm32", "stm32f733": "stm32", "stm32h747": "stm32", "stm32wb55": "stm32",
    "mimxrt1011": "mimxrt", "mimxrt1015": "mimxrt", "mimxrt1021": "mimxrt",
    "mimxrt1042": "mimxrt", "mimxrt1052": "mimxrt", "mimxrt1062": "mimxrt",
    "bcm2711": "broadcom", "bcm2835": "broadcom", "bcm2837": "broadcom",
    "efr32mg24": "silabs",
}
BLE = {
    "nrf52-softdevice": "Nordic SoftDevice on the nRF52 itself",
    "esp32-nimble": "NimBLE on the ESP32's own radio",
    "cyw43-btstack": "BTstack host talking HCI to the CYW43 radio chip",
    "silabs-bluetooth": "Silicon Labs Bluetooth stack on the EFR32 itself",
    "stm32wb-nimble": "NimBLE host on the STM32WB, HCI over IPCC to its own radio core",
    "cyw43-nimble": "NimBLE host talking HCI over UART to the board's CYW43 (Murata) radio module",
    "hci-uart": "external HCI co-processor over UART (e.g. AirLift / nina-fw ESP32), CircuitPython _bleio.Adapter(uart=...)",
}
METHODS = {
    "uf2": "copy a .uf2 file onto the UF2 bootloader drive (double-tap reset)",
    "esptool": "esptool over the USB serial port (Python package esptool)",
    "nrfutil": "Nordic nrfutil DFU package (.zip) over USB serial",
    "adafruit-nrfutil": "adafruit-nrfutil serial DFU package (.zip) for the Adafruit nRF52 bootloader",
    "west": "Zephyr's west flash from a Zephyr build directory",
    "dfu-util": "USB DFU (.dfu / .bin) with dfu-util, board in DFU mode (BOOT0)",
    "msd": "copy a .hex/.bin onto the debug probe's drive (DAPLink, ST-LINK, J-Link OB), found by DETAILS.TXT",
    "teensy": "teensy_loader_cli with an Intel HEX file",
    "commander": "Silicon Labs Simplicity Commander",
    "sdcard": "copy the firmware onto the FAT boot partition of the SD card (no host tool)",
}
FIRMWARE_PORTS = {  # None: no build of that firmware for the board
    "circuitpython": {"nordic", "espressif", "raspberrypi", "atmel-samd", "stm", "mimxrt10xx", "broadcom", "silabs", None},
    "micropython": {"nrf", "esp32", "rp2", "samd", "stm32", "mimxrt", None},
}

_cache = None
_aliases = None


class UnknownBoard(ValueError):
    """A board ID not in the database; the message lists the closest names."""


def _read():
    global _cache, _aliases
    if _cache is None:
        with open(_PATH, encoding="utf-8") as f:
            data = json.load(f)
        _cache, _aliases = data["boards"], data.get("micropython_aliases", {})


def load():
    """All board records, in the order of the seed's list."""
    _read()
    return _cache


def aliases():
    """MicroPython's board names (ports/*/boards/NAME, as in its firmware file names) -> our board id."""
    _read()
    return _aliases


def micropython_names(board):
    """The MicroPython board names that resolve to this record."""
    return sorted(name for name, target in aliases().items() if target == board["id"])


def get(board_id):
    """The record for board_id: its id, its exact name or its MicroPython board name, any case."""
    key = board_id.strip().lower()
    for b in load():
        if b["id"] == key or b["name"].lower() == key:
            return b
    target = aliases().get(board_id.strip().upper())
    if target:
        return next(b for b in load() if b["id"] == target)
    raise UnknownBoard(f"unknown board {board_id!r}; {_suggest(board_id)}")


def _suggest(text):
    names = [b["id"] for b in load()]
    close = difflib.get_close_matches(text.lower(), names, n=5, cutoff=0.4)
    close += [aliases()[n] for n in difflib.get_close_matches(text.upper(), list(aliases()), n=2, cutoff=0.6)
              if aliases()[n] not in close]
    close += [b["id"] for b in search(text) if b["id"] not in close][: 5 - len(close)]
    if not close:
        return "see 'bleboard boards' for the list"
    return "did you mean: " + ", ".join(close) + "?"


def search(query):
    """Boards whose id, name, chip, BLE kind, firmware or flash method contain every word of query."""
    words = query.lower().split()
    hits = []
    for b in load():
        hay = " ".join([b["id"], b["name"].lower(), b["chip"], b["family"], b["ble"],
                        " ".join(str(v) for v in b["firmware"].values()), " ".join(b["flash"]),
                        " ".join(micropython_names(b)).lower()])
        if all(w in hay for w in words):
            hits.append(b)
    return hits


def check(b):
    """Problems with one record, as a list of strings (empty when well formed)."""
    errs = []
    for key in ("id", "name", "chip", "family", "ble", "firmware", "flash"):
        if key not in b:
            errs.append(f"missing {key}")
    if errs:
        return errs
    if CHIPS.get(b["chip"]) != b["family"]:
        errs.append(f"chip {b['chip']!r} does not belong to family {b['family']!r}")
    if b["ble"] not in BLE:
        errs.append(f"unknown ble {b['ble']!r}")
    for fw, port in b["firmware"].items():
        if fw not in FIRMWARE_PORTS or port not in FIRMWARE_PORTS[fw]:
            errs.append(f"bad firmware {fw}={port!r}")
    if not b["flash"] or any(m not in METHODS for m in b["flash"]):
        errs.append(f"bad flash methods {b['flash']!r}")
    if "uf2" in b["flash"]:
        fam = b.get("uf2_family", "")
        if not (isinstance(fam, str) and fam.startswith("0x") and len(fam) == 10):
            errs.append(f"uf2 flashing needs uf2_family as 0xXXXXXXXX, got {fam!r}")
    if "west" in b["flash"] and not b.get("zephyr_board"):
        errs.append("west flashing needs zephyr_board")
    if "teensy" in b["flash"] and not b.get("teensy_mcu"):
        errs.append("teensy flashing needs teensy_mcu")
    if b["ble"] in ("hci-uart", "cyw43-btstack", "cyw43-nimble") and "hci_coprocessor" not in b:
        errs.append("HCI boards say which co-processor they carry (null: none on board)")
    if "flash_address" in b and not (isinstance(b["flash_address"], str) and b["flash_address"].startswith("0x")):
        errs.append(f"flash_address must be a hex string, got {b['flash_address']!r}")
    return errs


def check_aliases():
    """Problems with the MicroPython name table: each name in upper case, naming a board with a MicroPython port."""
    ids = {b["id"]: b for b in load()}
    errs = []
    for name, target in aliases().items():
        if name != name.upper():
            errs.append(f"MicroPython name {name!r} is not upper case")
        if target not in ids:
            errs.append(f"MicroPython name {name} points at unknown board {target!r}")
        elif ids[target]["firmware"]["micropython"] is None:
            errs.append(f"MicroPython name {name} points at {target}, which has no MicroPython port")
    return errs


def describe(b):
    """A few lines about one board, for `bleboard boards ID`."""
    cop = b.get("hci_coprocessor", "-")
    lines = [
        f"{b['name']}  ({b['id']})",
        f"  chip:      {b['chip']} ({b['family']})",
        f"  BLE:       {b['ble']}: {BLE[b['ble']]}",
    ]
    if b["ble"] in ("hci-uart", "cyw43-btstack", "cyw43-nimble"):
        lines.append(f"  HCI chip:  {cop or 'none on board: wire an AirLift (ESP32 with nina-fw) to a UART with RTS/CTS'}")
    lines.append(f"  firmware:  CircuitPython port {b['firmware']['circuitpython'] or '-'}, "
                 f"MicroPython port {b['firmware']['micropython'] or '-'}"
                 + (f" (board {b['micropython_board']})" if b.get("micropython_board") else ""))
    names = [n for n in micropython_names(b) if n != b.get("micropython_board")]
    if names:
        lines.append(f"  also:      {', '.join(names)} (MicroPython board names)")
    for m in b["flash"]:
        extra = ""
        if m == "uf2":
            extra = f" (family {b['uf2_family']})"
        elif m == "west":
            extra = f" (zephyr board {b['zephyr_board']})"
        elif m == "dfu-util" and b.get("flash_address"):
            extra = f" (raw images at {b['flash_address']})"
        lines.append(f"  flash:     {m}{extra}: {METHODS[m]}")
    return "\n".join(lines)
