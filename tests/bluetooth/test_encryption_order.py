"""_IRQ_ENCRYPTION_UPDATE comes before anything the peer sends after its pairing (as NimBLE).

NimBLE raises the encryption update when the pairing's keys have been exchanged, before
the bond is stored and before the next PDU on the link is handled. A central that reads
as soon as its own pairing completes must therefore find the peripheral's application
already told that the link is encrypted (and bonded).
"""

import asyncio
import time

import pytest
from bumble.device import Peer

from bluetooth import UUID
from hostile import RawPeer, run
from test_irq_delivery import wait_until
from test_security import FLAG_READ, IRQ_CENTRAL_CONNECT, IRQ_ENCRYPTION_UPDATE, IRQ_PERIPHERAL_CONNECT, IRQ_SET_SECRET, \
    Board

IRQ_GATTS_READ_REQUEST = 4
SEC_PEER = 2
SERVICES = [(UUID(0xE300), [(UUID(0xE301), FLAG_READ)])]


class SlowStoreBoard(Board):
    """A peripheral whose bond store takes as long as a flash write: the central's read
    reaches it while it stores, which is when the order used to go wrong."""

    def irq(self, event, data):
        if event == IRQ_SET_SECRET and data[0] == SEC_PEER:
            time.sleep(0.1)
        return super().irq(event, data)


@pytest.mark.parametrize("bond", [True, False])
def test_peripheral_hears_encryption_before_the_read_that_follows(radio, bond):
    p = SlowStoreBoard(radio, bond=bond)
    p.ble.active(True)
    ((h,),) = p.ble.gatts_register_services(SERVICES)
    p.ble.gatts_write(h, b"after pairing")
    p.ble.gap_advertise(20000)

    async def central():
        peer = await RawPeer(radio).open(bonding=bond)
        try:
            connection = await peer.connect(p.ble.config("mac"))
            await asyncio.wait_for(connection.pair(), 5)
            return await Peer(connection).gatt_client.read_value(h)  # right after its pairing
        finally:
            await peer.close()

    assert run(central()) == b"after pairing"
    wait_until(lambda: p.of(IRQ_GATTS_READ_REQUEST) and p.of(IRQ_ENCRYPTION_UPDATE))
    events = [e for e, _ in p.events]
    assert events.index(IRQ_ENCRYPTION_UPDATE) < events.index(IRQ_GATTS_READ_REQUEST)
    conn = p.of(IRQ_CENTRAL_CONNECT)[0][0]
    assert p.of(IRQ_ENCRYPTION_UPDATE)[0] == (conn, 1, 0, int(bond), 16)
    if bond:
        # Then the bond is stored (NimBLE persists the keys after raising the update).
        stored = [i for i, (e, d) in enumerate(p.events) if e == IRQ_SET_SECRET and d[0] == SEC_PEER]
        assert stored and stored[0] > events.index(IRQ_ENCRYPTION_UPDATE)


class LeavingBoard(Board):
    """A central that disconnects the moment its pairing completes."""

    def irq(self, event, data):
        result = super().irq(event, data)
        if event == IRQ_ENCRYPTION_UPDATE and data[1]:
            self.ble.gap_disconnect(data[0])
        return result


def test_bond_is_stored_even_if_the_central_leaves_at_once():
    """Both sides store the bond even when the central disconnects as soon as its pairing
    completes (NimBLE stores it before the link can drop)."""
    from bleboard.radio.local import LocalRadio

    radio = LocalRadio(latency="board")  # the last key and the disconnection arrive together
    p, c = Board(radio, bond=True), LeavingBoard(radio, bond=True)
    try:
        for board in (p, c):
            board.ble.active(True)
        p.ble.gap_advertise(20000)
        c.ble.gap_connect(*p.ble.config("mac"))
        wait_until(lambda: c.of(IRQ_PERIPHERAL_CONNECT))
        c.ble.gap_pair(c.of(IRQ_PERIPHERAL_CONNECT)[0][0])
        for board in (p, c):
            wait_until(lambda board=board: [d for d in board.of(IRQ_SET_SECRET) if d[0] == SEC_PEER])
            assert board.of(IRQ_ENCRYPTION_UPDATE)[0][1:] == (1, 0, 1, 16)
    finally:
        for board in (p, c):
            board.ble.active(False)
        radio.close()
