"""Fixtures for the tools tests (firmware samples are in firmware_samples.py)."""

import pytest


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
