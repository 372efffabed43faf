"""Hostile ATT clients: every request gets a response (Core Vol 3 Part F 3.4).

A raw Bumble central sends requests by hand to an ordinary board and checks the exact
bytes of each answer, then reads as a well-behaved client on the same link.
"""

import struct

from bluetooth import UUID
from hostile import ATT_CID, RawPeer, run
from test_security import FLAG_READ, FLAG_READ_ENCRYPTED, Board

from bumble.device import Peer

SERVICES = [(UUID(0xE200), [(UUID(0xE201), FLAG_READ), (UUID(0xE202), FLAG_READ | FLAG_READ_ENCRYPTED)])]


def error_response(opcode, handle, code):
    return struct.pack("<BBHB", 0x01, opcode, handle, code)


def start_board(radio):
    board = Board(radio)
    board.ble.active(True)
    ((open_handle, protected_handle),) = board.ble.gatts_register_services(SERVICES)
    board.ble.gatts_write(open_handle, b"open")
    board.ble.gatts_write(protected_handle, b"secret")
    board.ble.gap_advertise(20000)
    return board, open_handle, protected_handle


def scenario(radio, board, body):
    """Connect a raw peer, record the board's ATT PDUs, run `body`, then read legitimately."""

    async def go():
        peer = await RawPeer(radio).open()
        try:
            await peer.connect(board.ble.config("mac"))
            peer.record(ATT_CID)
            result = await body(peer)
            peer.restore(ATT_CID)
            legit = await Peer(peer.connection).gatt_client.read_value(board.open_handle)
            return result, legit
        finally:
            await peer.close()

    result, legit = run(go())
    assert legit == b"open"  # the board still serves a legitimate client afterwards
    return result


def make(radio):
    board, open_handle, protected_handle = start_board(radio)
    board.open_handle, board.protected_handle = open_handle, protected_handle
    return board


def test_malformed_requests_get_invalid_pdu(radio):
    board = make(radio)
    h = board.open_handle
    cases = [
        (bytes([0x0A, h & 0xFF]), 0x0A),  # Read, handle cut short
        (struct.pack("<BHB", 0x0A, h, 0), 0x0A),  # Read, one byte too many
        (bytes([0x04, 0x01, 0x00]), 0x04),  # Find Information without an end handle
        (struct.pack("<BHHHB", 0x08, 1, 0xFFFF, 0x2803, 0), 0x08),  # Read By Type, 3-byte UUID
        (struct.pack("<BHHB", 0x0E, h, h, 0), 0x0E),  # Read Multiple, half a handle
        (struct.pack("<BH", 0x0E, h), 0x0E),  # Read Multiple of a single handle
        (bytes([0x12, h & 0xFF]), 0x12),  # Write without a whole handle
        (bytes([0x18]), 0x18),  # Execute Write without its flags
        (bytes([0x02, 0x17]), 0x02),  # Exchange MTU, MTU cut short
        (struct.pack("<BH", 0x12, h) + bytes(21), 0x12),  # Write longer than ATT_MTU (23)
    ]

    async def body(peer):
        return [await peer.exchange(ATT_CID, pdu) for pdu, _ in cases]

    answers = scenario(radio, board, body)
    assert answers == [error_response(opcode, 0, 0x04) for _, opcode in cases]


def test_unassigned_requests_are_not_supported_and_commands_ignored(radio):
    board = make(radio)
    h = board.open_handle

    async def body(peer):
        answers = [await peer.exchange(ATT_CID, bytes([opcode, 0x01, 0x00])) for opcode in (0x14, 0x30, 0x3E)]
        # Unknown commands (command flag set) and malformed commands are ignored: the next
        # answer on the bearer is the one to the read that follows them.
        peer.send(ATT_CID, bytes([0x70, 0x01, 0x00]))
        peer.send(ATT_CID, bytes([0x52, 0x01]))
        answers.append(await peer.exchange(ATT_CID, struct.pack("<BH", 0x0A, h)))
        await peer.silent(ATT_CID)
        return answers

    answers = scenario(radio, board, body)
    assert answers == [error_response(0x14, 0, 0x06), error_response(0x30, 0, 0x06),
                       error_response(0x3E, 0, 0x06), b"\x0b" + b"open"]


def test_read_multiple_names_the_first_protected_handle(radio):
    board = make(radio)
    o, p = board.open_handle, board.protected_handle

    async def body(peer):
        return [
            await peer.exchange(ATT_CID, struct.pack("<BHH", 0x0E, o, p)),
            await peer.exchange(ATT_CID, struct.pack("<BHH", 0x20, o, p)),
            await peer.exchange(ATT_CID, struct.pack("<BHHH", 0x0E, p, o, p)),
            await peer.exchange(ATT_CID, struct.pack("<BHH", 0x0E, o, 0x0200)),
            await peer.exchange(ATT_CID, struct.pack("<BHH", 0x0E, o, o)),
            await peer.exchange(ATT_CID, struct.pack("<BHH", 0x20, o, o)),
        ]

    answers = scenario(radio, board, body)
    # A stranger reading an encrypted characteristic: insufficient authentication (NimBLE).
    assert answers == [
        error_response(0x0E, p, 0x05),
        error_response(0x20, p, 0x05),
        error_response(0x0E, p, 0x05),
        error_response(0x0E, 0x0200, 0x0A),  # attribute not found
        b"\x0f" + b"open" + b"open",
        b"\x21" + struct.pack("<H", 4) + b"open" + struct.pack("<H", 4) + b"open",
    ]
