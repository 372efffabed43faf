"""Hostile SMP peers: bad or out-of-order pairing PDUs are refused, and a pairing that goes
silent times out in both roles (Core Vol 3 Part H 3.3, 3.4, 3.5).

The Security Manager Timer is 30 s; each board here gets a short one through
BLEBOARD_SMP_TIMEOUT, which a board reads when it starts.
"""

import asyncio

import pytest
from bumble.device import Peer

from hostile import ATT_CID, SMP_CID, RawPeer, run
from test_irq_delivery import wait_until
from test_security import IRQ_CENTRAL_CONNECT, IRQ_GATTC_READ_RESULT, IRQ_PERIPHERAL_CONNECT, Board, updates

FAILED = 0x05
PAIRING_REQUEST = bytes([0x01, 0x03, 0x00, 0x09, 0x10, 0x00, 0x00])  # NoInputNoOutput, SC, 16-byte key
PUBLIC_KEY = bytes([0x0C]) + bytes(range(64))
SHORT_TIMEOUT = "0.3"


@pytest.fixture
def short_smp_timeout(monkeypatch):
    monkeypatch.setenv("BLEBOARD_SMP_TIMEOUT", SHORT_TIMEOUT)


def peripheral_board(radio):
    board = Board(radio)
    board.ble.active(True)
    board.ble.gap_advertise(20000)
    return board


def connect_raw_central(radio, board):
    async def go():
        peer = await RawPeer(radio).open()
        await peer.connect(board.ble.config("mac"))
        peer.record(SMP_CID)
        return peer

    peer = run(go())
    wait_until(lambda: board.of(IRQ_CENTRAL_CONNECT))
    return peer, board.of(IRQ_CENTRAL_CONNECT)[0][0]


def test_malformed_and_unsolicited_pairing_pdus_are_refused(radio):
    board = peripheral_board(radio)
    peer, _ = connect_raw_central(radio, board)
    cases = [
        (bytes([0x01, 0x07, 0x00, 0x09, 0x10, 0x00, 0x00]), 0x0A),  # IO capability 0x07 (reserved)
        (bytes([0x01, 0x03, 0x00, 0x09, 0xFF, 0x00, 0x00]), 0x0A),  # maximum key size 0xFF
        (bytes([0x01, 0x03, 0x02, 0x09, 0x10, 0x00, 0x00]), 0x0A),  # OOB flag 0x02 (reserved)
        (PAIRING_REQUEST + b"\x00", 0x0A),  # one byte too many
        (bytes([0x01, 0x03, 0x00, 0x09, 0x06, 0x00, 0x00]), 0x06),  # 6-byte key: key size
        (bytes([0x0F, 0x00]), 0x07),  # unassigned command code
        (PUBLIC_KEY, 0x08),  # a public key on a link where nothing was requested
        (bytes([0x03]) + bytes(16), 0x08),  # a confirm value out of the blue
        (bytes([0x0B, 0x01]), 0x07),  # a Security Request to the peripheral
    ]

    async def go():
        answers = [await peer.exchange(SMP_CID, pdu) for pdu, _ in cases]
        peer.send(SMP_CID, bytes([FAILED, 0x08]))  # a failure is never answered
        await peer.silent(SMP_CID)
        # The same link, now a legitimate initiator: pairing works.
        peer.restore(SMP_CID)
        await asyncio.wait_for(peer.connection.pair(), 5)
        await peer.close()
        return answers

    answers = run(go())
    assert answers == [bytes([FAILED, reason]) for _, reason in cases]
    wait_until(lambda: updates(board))
    assert updates(board) == [(1, 0, 0, 16)]  # refusals before any pairing raise nothing


def test_second_pairing_request_mid_pairing_fails_it(radio):
    board = peripheral_board(radio)
    peer, _ = connect_raw_central(radio, board)

    async def go():
        response = await peer.exchange(SMP_CID, PAIRING_REQUEST)
        again = await peer.exchange(SMP_CID, PAIRING_REQUEST)
        return response, again

    response, again = run(go())
    assert response[0] == 0x02 and len(response) == 7
    assert again == bytes([FAILED, 0x08])
    wait_until(lambda: updates(board))
    assert updates(board) == [(0, 0, 0, 0)]

    async def legitimate():
        peer.restore(SMP_CID)  # a fresh, well-formed pairing on the same link succeeds
        await asyncio.wait_for(peer.connection.pair(), 5)
        await peer.close()

    run(legitimate())
    wait_until(lambda: len(updates(board)) == 2)
    assert updates(board)[-1] == (1, 0, 0, 16)


def test_silent_initiator_times_out_the_responder(radio, short_smp_timeout):
    board = peripheral_board(radio)
    peer, conn = connect_raw_central(radio, board)
    response = run(peer.exchange(SMP_CID, PAIRING_REQUEST))
    assert response[0] == 0x02
    # The peer says nothing more: the pairing fails, and the application hears it.
    wait_until(lambda: updates(board))
    assert updates(board) == [(0, 0, 0, 0)]
    # The link stays up; SMP is over on it: no answer to a new request, and a local
    # gap_pair fails at once (it used to raise EALREADY for the life of the link).
    board.ble.gap_pair(conn)
    wait_until(lambda: len(updates(board)) == 2)
    assert updates(board)[-1] == (0, 0, 0, 0)

    async def after():
        peer.send(SMP_CID, PAIRING_REQUEST)
        await peer.silent(SMP_CID, 0.3)
        value = await Peer(peer.connection).gatt_client.read_value(3)  # the GAP device name
        await peer.close()
        return value

    assert run(after()) == board.ble.config("gap_name")


def test_silent_responder_times_out_the_initiator(radio, short_smp_timeout):
    board = Board(radio)
    board.ble.active(True)
    peer = run(RawPeer(radio).open())
    mac = run(peer.advertise())
    board.ble.gap_connect(*mac)
    run(peer.incoming())
    peer.record(SMP_CID)
    wait_until(lambda: board.of(IRQ_PERIPHERAL_CONNECT))
    conn = board.of(IRQ_PERIPHERAL_CONNECT)[0][0]

    # A peripheral may not start pairing: the central refuses it.
    assert run(peer.exchange(SMP_CID, PAIRING_REQUEST)) == bytes([FAILED, 0x07])
    board.ble.gap_pair(conn)
    request = run(peer.reply(SMP_CID))
    assert request[0] == 0x01 and len(request) == 7
    wait_until(lambda: updates(board))
    assert updates(board) == [(0, 0, 0, 0)]
    board.ble.gap_pair(conn)  # no second Pairing Request on this link
    wait_until(lambda: len(updates(board)) == 2)
    run(peer.silent(SMP_CID, 0.3))
    # The link still carries GATT: the central reads the peer's device name.
    board.ble.gattc_read(conn, 3)
    wait_until(lambda: board.of(IRQ_GATTC_READ_RESULT))
    assert board.of(IRQ_GATTC_READ_RESULT)[0][2] == b"raw-peer"
    run(peer.close())


def test_att_is_untouched_by_the_smp_checks(radio):
    """The SMP checks sit on their own channel: the ATT bearer of the same link is unaffected."""
    board = peripheral_board(radio)
    peer, _ = connect_raw_central(radio, board)

    async def go():
        peer.record(ATT_CID)
        refused = await peer.exchange(SMP_CID, PUBLIC_KEY)
        name = await peer.exchange(ATT_CID, bytes([0x0A, 0x03, 0x00]))
        await peer.close()
        return refused, name

    refused, name = run(go())
    assert refused == bytes([FAILED, 0x08])
    assert name == b"\x0b" + board.ble.config("gap_name")


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_a_bad_smp_timeout_is_refused_naming_it(radio, monkeypatch, value):
    import errno

    import bluetooth

    monkeypatch.setenv("BLEBOARD_SMP_TIMEOUT", value)
    ble = bluetooth.BLE.new(radio=radio)
    with pytest.raises(OSError) as excinfo:
        ble.active(True)
    assert excinfo.value.errno == errno.EINVAL and "BLEBOARD_SMP_TIMEOUT" in str(excinfo.value)
