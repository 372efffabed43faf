"""Small valid firmware images of each format, built in the tests (no downloads)."""

import json
import struct
import zipfile
import zlib

UF2_M0, UF2_M1, UF2_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30


def make_uf2(family, nblocks=4, addr=0x1000):
    out = b""
    for i in range(nblocks):
        payload = bytes([(i + j) & 0xFF for j in range(256)])
        head = struct.pack("<8I", UF2_M0, UF2_M1, 0x2000, addr + 256 * i, 256, i, nblocks, family)
        out += head + payload + bytes(476 - 256) + struct.pack("<I", UF2_END)
    return out


def make_esp_image(chip_id):
    # common header (magic, segments, mode, size/freq, entry) + extended header (wp, drive, chip id ...)
    head = bytes([0xE9, 1, 2, 0x20]) + struct.pack("<I", 0x40080000)
    ext = bytes([0xEE, 0, 0, 0]) + struct.pack("<H", chip_id) + bytes(10)
    seg = struct.pack("<II", 0x3FF80000, 16) + bytes(16)
    return head + ext + seg + bytes(16)


def hex_record(rtype, addr, data):
    rec = bytes([len(data), (addr >> 8) & 0xFF, addr & 0xFF, rtype]) + data
    return ":" + (rec + bytes([(-sum(rec)) & 0xFF])).hex().upper()


def make_ihex(base, nbytes=64):
    lines = [hex_record(4, 0, struct.pack(">H", base >> 16))]
    for off in range(0, nbytes, 16):
        lines.append(hex_record(0, (base & 0xFFFF) + off, bytes((off + i) & 0xFF for i in range(16))))
    lines.append(hex_record(1, 0, b""))
    return ("\n".join(lines) + "\n").encode()


def make_dfu_zip(path, with_manifest=True):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("app.bin", b"\x00" * 64)
        z.writestr("app.dat", b"\x01" * 14)
        if with_manifest:
            z.writestr("manifest.json", json.dumps(
                {"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"}}}))


def make_dfuse():
    body = b"DfuSe\x01" + bytes(5) + b"\x01" + bytes(64)
    suffix = struct.pack("<HHHH", 0xFFFF, 0xDF11, 0x0483, 0x011A) + b"UFD" + bytes([16])
    data = body + suffix
    return data + struct.pack("<I", zlib.crc32(data) ^ 0xFFFFFFFF)
