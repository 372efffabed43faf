"""Fixtures for the real-firmware tests: MicroPython's source and the unix firmware, built once and cached.

Without MicroPython's source (no $MICROPY_DIR, no release tarball beside the
repository) or without gcc/make these tests skip and say why; with
BLEBOARD_REQUIRE_FIRMWARE set (CI) that is a failure instead.
"""

import os

import pytest

from bleboard.testing import firmware_instance
from bleboard.tools import firmware_build


def _unavailable(message):
    if os.environ.get(firmware_instance.REQUIRE_ENV):
        pytest.fail(message + " (%s is set)" % firmware_instance.REQUIRE_ENV)
    pytest.skip(message)


@pytest.fixture(scope="session")
def micropython_source():
    """MicroPython's source tree (the release tarball unpacked into the firmware cache)."""
    try:
        return firmware_build.source_dir()
    except firmware_build.SourceMissing as exc:
        _unavailable(str(exc))


def _firmware(stack):
    try:
        return firmware_instance.firmware_binary(stack)
    except firmware_instance.FirmwareUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def nimble_firmware():
    """Path of the unix firmware with NimBLE (built on first use, then cached)."""
    return _firmware("nimble")


@pytest.fixture(scope="session")
def btstack_firmware():
    """Path of the unix firmware with BTstack."""
    return _firmware("btstack")
