"""aioble drives whichever BLE object it is given (aioble.core.use): here an independent
board from `bluetooth.BLE.new()` on an in-process radio, talking to a raw `bluetooth`
peer on the same radio; the process-wide bluetooth.BLE() singleton is never touched."""

import asyncio

import pytest

import bluetooth
from bluetooth import UUID

import aioble
from aioble import core


@pytest.fixture
def fresh_core(monkeypatch):
    # aioble keeps one BLE object per process: give it back as it was after the test.
    monkeypatch.setattr(core, "_ble", None)
    monkeypatch.setattr(core, "_on", False)


def test_aioble_drives_the_given_ble_object(fresh_core):
    from bleboard.radio.local import LocalRadio

    radio = LocalRadio(latency="fast")
    peer = bluetooth.BLE.new(radio=radio)
    peer.active(True)
    ((h,),) = peer.gatts_register_services(((UUID(0x180F), ((UUID(0x2A19), bluetooth.FLAG_READ),)),))
    peer.gatts_write(h, b"\x64")
    peer.gap_advertise(20000)
    mine = bluetooth.BLE.new(radio=radio)

    async def main():
        conn = await aioble.Device(*peer.config("mac")).connect(timeout_ms=5000)
        char = await (await conn.service(UUID(0x180F), 5000)).characteristic(UUID(0x2A19), 5000)
        value = await char.read(5000)
        await conn.disconnect()
        return value

    try:
        assert core.use(mine) is mine and mine.active()
        assert aioble.config("mac") == mine.config("mac") != peer.config("mac")
        assert asyncio.run(main()) == b"\x64"
    finally:
        aioble.stop()
        peer.active(False)
    assert core._ble is mine and not mine.active()
