"""Fixtures: independent boards on one in-process virtual radio."""

import pytest

import bluetooth


@pytest.fixture
def radio():
    from bleboard.radio.local import LocalRadio

    return LocalRadio(latency="fast")


@pytest.fixture
def boards(radio):
    made = []

    def make(n=2):
        for _ in range(n):
            made.append(bluetooth.BLE.new(radio=radio))
        return made[-n:]

    yield make
    for ble in made:
        try:
            ble.active(False)
        except OSError:
            pass
