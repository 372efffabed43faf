"""Connection.pair() with a peer that abandons the pairing raises SecurityError once the
board's SMP timer (Core Vol 3 Part H 3.4) fails it; the connection stays up."""

import os
import sys

import pytest

import _bleio

bluetooth = pytest.importorskip("bluetooth")
local = pytest.importorskip("bleboard.radio.local")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bluetooth"))
from hostile import SMP_CID, RawPeer, run


def test_pair_with_a_silent_peer_raises_security_error():
    radio = local.LocalRadio(latency="fast")
    central = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio, smp_timeout=0.3))

    async def silent_peripheral():
        peer = await RawPeer(radio).open()
        peer.record(SMP_CID)  # takes every SMP command in, answers none
        return peer, await peer.advertise()

    peer, (addr_type, addr) = run(silent_peripheral())
    try:
        conn = central.connect(_bleio.Address(bytes(reversed(addr)), _bleio.Address.RANDOM_STATIC), timeout=5)
        with pytest.raises(_bleio.SecurityError, match="Failed to pair"):
            conn.pair()
        assert conn.connected and not conn.paired
        assert run(peer.reply(SMP_CID))[0] == 0x01  # the Pairing Request did leave
    finally:
        central.enabled = False
        run(peer.close())
        radio.close()
