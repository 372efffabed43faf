"""Recognise and check firmware files before anything is written to a board.

A file for the wrong chip must be refused here, with a message that names
the file and what is wrong, so that a flash tool never starts on it.
"""

import json
import os
import struct
import zipfile
import zlib

# UF2: 512-byte blocks, three magic words (the format's own constants)
UF2_MAGIC_START0 = 0x0A324655  # "UF2\n"
UF2_MAGIC_START1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FLAG_NOT_MAIN_FLASH = 0x00000001
UF2_FLAG_FAMILY_ID = 0x00002000

# ESP image header: magic byte, then in the extended header the chip id
ESP_IMAGE_MAGIC = 0xE9
ESP_CHIP_IDS = {"esp32": 0, "esp32s2": 2, "esp32c3": 5, "esp32s3": 9, "esp32c2": 12, "esp32c6": 13, "esp32h2": 16, "esp32c5": 23}

# where each chip's program memory is, for Intel HEX / raw image address checks
FLASH_RANGES = {
    "nrf52840": [(0x00000000, 0x00100000), (0x10001000, 0x10002000)],  # flash, UICR
    "nrf52833": [(0x00000000, 0x00080000), (0x10001000, 0x10002000)],
    "stm32f405": [(0x08000000, 0x08100000)],
    "stm32f411": [(0x08000000, 0x08080000)],
    "stm32f412": [(0x08000000, 0x08100000)],
    "stm32f746": [(0x08000000, 0x08100000)],
    "stm32f767": [(0x08000000, 0x08200000)],
    "stm32h743": [(0x08000000, 0x08200000)],
    "mimxrt1062": [(0x60000000, 0x60800000)],
    "efr32mg24": [(0x08000000, 0x08180000)],
}


class FirmwareError(ValueError):
    """The firmware file cannot go onto this board; nothing was written."""


def kind(path):
    """What the file is: 'uf2', 'esp-image', 'ihex', 'dfu-zip', 'dfuse' or 'bin'."""
    with open(path, "rb") as f:
        head = f.read(512)
    if len(head) >= 8 and struct.unpack_from("<II", head) == (UF2_MAGIC_START0, UF2_MAGIC_START1):
        return "uf2"
    if head[:1] == b":":
        return "ihex"
    if head[:4] == b"PK\x03\x04":
        return "dfu-zip"
    if head[:5] == b"DfuSe":
        return "dfuse"
    if head[:1] == bytes([ESP_IMAGE_MAGIC]):
        return "esp-image"
    ext = os.path.splitext(path)[1].lower()
    if ext == ".uf2":
        return "uf2"  # named .uf2 but without the magic: check_uf2 says why
    return "bin"


def check(path, board):
    """Check path against board's chip; return its kind or raise FirmwareError."""
    if not os.path.isfile(path):
        raise FirmwareError(f"firmware file {path!r} does not exist")
    if os.path.getsize(path) == 0:
        raise FirmwareError(f"firmware file {path!r} is empty")
    k = kind(path)
    with open(path, "rb") as f:
        data = f.read()
    if k == "uf2":
        check_uf2(data, board.get("uf2_family"), path)
    elif k == "esp-image":
        check_esp_image(data, board["chip"], path)
    elif k == "ihex":
        check_ihex(data, board["chip"], path)
    elif k == "dfu-zip":
        check_dfu_zip(path)
    elif k == "dfuse":
        check_dfuse(data, path)
    elif board["family"] == "esp32":
        raise FirmwareError(f"{path}: not an ESP image (first byte 0x{data[0]:02x}, expected 0x{ESP_IMAGE_MAGIC:02X})")
    return k


def check_uf2(data, family, path="firmware"):
    """Every block must carry the three magic numbers and, when tagged, the board's family ID."""
    if len(data) % 512:
        raise FirmwareError(f"{path}: UF2 size {len(data)} is not a multiple of 512-byte blocks")
    want = int(family, 16) if family else None
    nblocks = len(data) // 512
    total = None
    for i in range(nblocks):
        blk = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, blockno, numblocks, fam = struct.unpack_from("<8I", blk)
        (mend,) = struct.unpack_from("<I", blk, 508)
        if (m0, m1, mend) != (UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END):
            raise FirmwareError(f"{path}: block {i} has bad UF2 magic numbers (truncated or not a UF2 file)")
        if size > 476:
            raise FirmwareError(f"{path}: block {i} claims {size} payload bytes (at most 476)")
        if flags & UF2_FLAG_NOT_MAIN_FLASH:
            continue
        if want is not None and flags & UF2_FLAG_FAMILY_ID and fam != want:
            raise FirmwareError(
                f"{path}: UF2 family 0x{fam:08x} ({family_name(fam)}) does not match this board's "
                f"0x{want:08x} ({family_name(want)}): firmware for another chip")
        if blockno >= numblocks:
            raise FirmwareError(f"{path}: block {i} is number {blockno} of only {numblocks}")
        if total is None:
            total = numblocks
    return nblocks


_UF2_FAMILY_NAMES = {
    0xADA52840: "nRF52840", 0x621E937A: "nRF52833", 0xE48BFF56: "RP2040", 0xE48BFF59: "RP2350",
    0x55114460: "SAMD51", 0x68ED2B88: "SAMD21", 0xC47E5767: "ESP32-S3", 0xBFDD4EEE: "ESP32-S2",
    0xD42BA06C: "ESP32-C3", 0x4FB2D5BD: "i.MX RT10xx", 0x6D0922FA: "STM32F407",
}


def family_name(fam):
    return _UF2_FAMILY_NAMES.get(fam, "unknown family")


def check_esp_image(data, chip, path="firmware"):
    """Magic 0xE9 at offset 0 and the extended header's chip id equal to the board's chip."""
    if len(data) < 24 or data[0] != ESP_IMAGE_MAGIC:
        raise FirmwareError(f"{path}: not an ESP image (expected magic byte 0xE9)")
    (chip_id,) = struct.unpack_from("<H", data, 12)
    want = ESP_CHIP_IDS.get(chip)
    if want is None:
        raise FirmwareError(f"{path}: this board's chip {chip} does not take ESP images")
    if chip_id != want:
        names = {v: k for k, v in ESP_CHIP_IDS.items()}
        raise FirmwareError(f"{path}: ESP image is for {names.get(chip_id, f'chip id {chip_id}')}, this board is {chip}")


def check_ihex(data, chip, path="firmware"):
    """Intel HEX: syntax, per-record checksums, an end record, and addresses inside the chip's flash."""
    base = 0
    ended = False
    ranges = FLASH_RANGES.get(chip)
    for n, raw in enumerate(data.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if ended:
            raise FirmwareError(f"{path}: line {n}: data after the end-of-file record")
        try:
            rec = bytes.fromhex(line[1:].decode("ascii"))
        except ValueError:
            rec = None
        if line[:1] != b":" or rec is None or len(rec) < 5 or len(rec) != rec[0] + 5:
            raise FirmwareError(f"{path}: line {n} is not a valid Intel HEX record")
        if sum(rec) & 0xFF:
            raise FirmwareError(f"{path}: line {n}: checksum mismatch")
        count, addr, rtype = rec[0], (rec[1] << 8) | rec[2], rec[3]
        if rtype == 0:
            start = base + addr
            if ranges and not any(a <= start and start + count <= b for a, b in ranges):
                raise FirmwareError(
                    f"{path}: line {n}: data at 0x{start:08x} lies outside {chip}'s flash: firmware for another chip")
        elif rtype == 1:
            ended = True
        elif rtype == 2:
            base = ((rec[4] << 8) | rec[5]) << 4
        elif rtype == 4:
            base = ((rec[4] << 8) | rec[5]) << 16
        elif rtype not in (3, 5):
            raise FirmwareError(f"{path}: line {n}: unknown record type {rtype}")
    if not ended:
        raise FirmwareError(f"{path}: no end-of-file record (truncated Intel HEX)")


def check_dfu_zip(path):
    """A Nordic DFU package: a zip whose manifest.json names files that are in it."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "manifest.json" not in names:
                raise FirmwareError(f"{path}: DFU package has no manifest.json (is it a DFU zip?)")
            manifest = json.loads(z.read("manifest.json")).get("manifest")
    except zipfile.BadZipFile as e:
        raise FirmwareError(f"{path}: not a valid zip file ({e})") from None
    except ValueError as e:
        if isinstance(e, FirmwareError):
            raise
        raise FirmwareError(f"{path}: manifest.json is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or not manifest:
        raise FirmwareError(f"{path}: manifest.json has no 'manifest' entries")
    for part, entry in manifest.items():
        if not isinstance(entry, dict):
            continue
        for key in ("bin_file", "dat_file"):
            if key in entry and entry[key] not in names:
                raise FirmwareError(f"{path}: manifest {part}.{key} names {entry[key]!r}, missing from the zip")


def check_dfuse(data, path="firmware"):
    """A DfuSe file (.dfu): 'DfuSe' prefix and the 16-byte DFU suffix with its CRC."""
    if len(data) < 16 + 11 or data[-8:-5] != b"UFD" or data[-5] != 16:
        raise FirmwareError(f"{path}: DfuSe file without a valid DFU suffix")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if crc != zlib.crc32(data[:-4]) ^ 0xFFFFFFFF:
        raise FirmwareError(f"{path}: DFU suffix CRC mismatch (file damaged)")
