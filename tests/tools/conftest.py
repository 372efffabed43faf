"""Shared helpers for the tools tests: firmware files built byte by byte from their format specs."""


import pytest

from firmware_samples import make_dfu_zip, make_dfuse, make_esp_image, make_ihex, make_uf2  # noqa: F401


@pytest.fixture
def fake_drive(tmp_path):
    """A directory that looks like a mounted UF2 bootloader drive."""
    root = tmp_path / "media"
    drive = root / "FTHR840BOOT"
    drive.mkdir(parents=True)
    (drive / "INFO_UF2.TXT").write_text(
        "UF2 Bootloader 0.9.0\nModel: Adafruit Feather nRF52840 Express\nBoard-ID: nRF52840-Feather-revD\n")
    (drive / "CURRENT.UF2").write_bytes(b"")
    return drive
