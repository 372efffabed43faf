"""A pairing the peer abandons ends in aioble's pairing error, not a hang (the board's SMP
timer, Core Vol 3 Part H 3.4, raises _IRQ_ENCRYPTION_UPDATE with encrypted=0)."""

import asyncio
import os
import sys

import pytest

import bluetooth

import aioble
from aioble import core

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bluetooth"))
from hostile import SMP_CID, RawPeer, run


@pytest.fixture
def fresh_core(monkeypatch):
    monkeypatch.setattr(core, "_ble", None)
    monkeypatch.setattr(core, "_on", False)


def test_pairing_with_a_silent_peer_raises_eacces(fresh_core):
    from bleboard.radio.local import LocalRadio

    radio = LocalRadio(latency="fast")
    mine = bluetooth.BLE.new(radio=radio, smp_timeout=0.3)
    core.use(mine)

    async def silent_peripheral():
        peer = await RawPeer(radio).open()
        peer.record(SMP_CID)  # takes every SMP command in, answers none
        return peer, await peer.advertise()

    peer, (addr_type, addr) = run(silent_peripheral())

    async def main():
        conn = await aioble.Device(addr_type, addr).connect(timeout_ms=5000)
        try:
            await conn.pair(timeout_ms=10000)
        except OSError as exc:
            return exc.errno, conn.encrypted, conn.is_connected()
        return "paired"

    try:
        assert asyncio.run(main()) == (13, False, True)  # EACCES; the link stays up
        assert run(peer.reply(SMP_CID))[0] == 0x01  # the Pairing Request did leave
    finally:
        aioble.stop()
        run(peer.close())
        radio.close()
