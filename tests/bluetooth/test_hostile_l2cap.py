"""Hostile L2CAP peers: credit-based flow control is enforced and bad channel requests are
refused with the spec's result (Core Vol 3 Part A 4.22-4.24, 10.1).

A raw Bumble central opens channels to a board that listens and never reads, then breaks
the rules; the board answers with the exact frames the spec asks for, keeps at most its
credit window of data, and afterwards still accepts a legitimate channel.
"""

import struct

import bluetooth
from bumble import l2cap

from hostile import LE_SIGNALLING_CID, RawPeer, run
from test_l2cap import IRQ_CENTRAL_CONNECT, IRQ_L2CAP_ACCEPT, IRQ_L2CAP_CONNECT, IRQ_L2CAP_DISCONNECT, \
    IRQ_L2CAP_RECV, Board

from bleboard.port.l2cap import credits_for, mps_for

PSM = 0x0080
MTU = 100
DISCONNECTION_REQUEST = 0x06
LE_CONNECTION_RESPONSE = 0x15


def listening_board(radio):
    board = Board(bluetooth.BLE.new(radio=radio))
    board.ble.l2cap_listen(PSM, MTU)
    board.ble.gap_advertise(20000)
    return board


def connect(radio, board):
    async def go():
        peer = await RawPeer(radio).open()
        await peer.connect(board.ble.config("mac"))
        peer.watch_signalling()
        return peer

    peer = run(go())
    conn = board.wait(IRQ_CENTRAL_CONNECT)[0]
    return peer, conn


async def open_channel(peer):
    return await peer.connection.create_l2cap_channel(l2cap.LeCreditBasedChannelSpec(psm=PSM, mtu=MTU, mps=MTU + 2))


async def next_frame(peer, code):
    """The next signalling frame the board sent with this code (others are skipped)."""
    while True:
        frame = await peer.reply(LE_SIGNALLING_CID)
        if frame[0] == code:
            return frame


def disconnection_request(frame, board_cid, peer_cid):
    return struct.pack("<BBHHH", DISCONNECTION_REQUEST, frame[1], 4, peer_cid, board_cid)


def still_serves(radio, board, peer):
    """A legitimate channel on the same link: opens, and its SDU reaches the application."""
    board.events.clear()

    async def go():
        channel = await open_channel(peer)
        channel.write(b"legitimate")
        return channel

    run(go())
    conn, cid = board.wait(IRQ_L2CAP_CONNECT)[:2]
    board.wait(IRQ_L2CAP_RECV)
    buf = bytearray(MTU)
    n = board.ble.l2cap_recvinto(conn, cid, buf)
    assert bytes(buf[:n]) == b"legitimate"
    run(peer.close())


def test_frames_beyond_the_credits_disconnect_the_channel(radio):
    board = listening_board(radio)
    peer, _ = connect(radio, board)
    window = credits_for(MTU)
    sdu = struct.pack("<H", MTU) + bytes(MTU)

    async def flood():
        channel = await open_channel(peer)
        assert channel.credits == window
        for _ in range(window):
            channel.write(bytes(MTU))  # within the credits the board gave
        for _ in range(200):
            channel.send_pdu(sdu)  # and then ignoring them
        frame = await next_frame(peer, DISCONNECTION_REQUEST)
        return frame, channel

    frame, channel = run(flood())
    conn, cid = board.wait(IRQ_L2CAP_CONNECT)[:2]
    assert frame == disconnection_request(frame, cid, channel.source_cid)
    assert board.wait(IRQ_L2CAP_DISCONNECT)[:2] == (conn, cid)
    # Only what the credits allowed was ever taken in: the window, not the flood.
    assert board.codes().count(IRQ_L2CAP_RECV) == window
    still_serves(radio, board, peer)


def test_credit_count_past_65535_disconnects_the_channel(radio):
    board = listening_board(radio)
    peer, _ = connect(radio, board)

    async def overflow():
        channel = await open_channel(peer)
        for _ in range(2):
            channel.send_control_frame(l2cap.L2CAP_LE_Flow_Control_Credit(
                identifier=peer.device.l2cap_channel_manager.next_identifier(peer.connection),
                cid=channel.source_cid, credits=65535))
        return await next_frame(peer, DISCONNECTION_REQUEST), channel

    frame, channel = run(overflow())
    conn, cid = board.wait(IRQ_L2CAP_CONNECT)[:2]
    assert frame == disconnection_request(frame, cid, channel.source_cid)
    assert board.wait(IRQ_L2CAP_DISCONNECT)[:2] == (conn, cid)
    still_serves(radio, board, peer)


def test_bad_source_cid_mtu_or_mps_is_refused(radio):
    board = listening_board(radio)
    peer, _ = connect(radio, board)
    invalid_cid, unacceptable = 0x0009, 0x000B
    cases = [
        (0x0001, MTU, MTU, invalid_cid),  # the BR/EDR signalling channel
        (0x0004, MTU, MTU, invalid_cid),  # the ATT channel
        (0x0080, MTU, MTU, invalid_cid),  # past the LE dynamic range
        (0x0040, 22, MTU, unacceptable),  # MTU below 23
        (0x0040, MTU, 22, unacceptable),  # MPS below 23
        (0x0040, MTU, 65534, unacceptable),  # MPS above 65533
    ]

    async def go():
        manager = peer.device.l2cap_channel_manager
        answers = []
        for identifier, (source_cid, mtu, mps, _) in enumerate(cases, start=0x40):
            manager.send_control_frame(peer.connection, LE_SIGNALLING_CID, l2cap.L2CAP_LE_Credit_Based_Connection_Request(
                identifier=identifier, le_psm=PSM, source_cid=source_cid, mtu=mtu, mps=mps, initial_credits=10))
            answers.append(await next_frame(peer, LE_CONNECTION_RESPONSE))
        return answers

    answers = run(go())
    assert answers == [
        struct.pack("<BBHHHHHH", LE_CONNECTION_RESPONSE, identifier, 10, 0, MTU, mps_for(MTU), 0, result)
        for identifier, (_, _, _, result) in enumerate(cases, start=0x40)
    ]
    assert IRQ_L2CAP_ACCEPT not in board.codes()  # refused before the application is asked
    still_serves(radio, board, peer)


def test_a_reader_keeps_up_with_a_peer_that_respects_credits(radio):
    """The checks do not disturb flow control: a drained window is topped up and more flows."""
    board = listening_board(radio)
    peer, _ = connect(radio, board)
    window = credits_for(MTU)

    async def send(channel, count):
        for _ in range(count):
            channel.write(bytes(MTU))  # Bumble sends as credits allow

    channel = run(open_channel(peer))
    conn, cid = board.wait(IRQ_L2CAP_CONNECT)[:2]
    run(send(channel, window))
    buf = bytearray(MTU * window)
    got = 0
    while got < MTU * window:
        board.wait(IRQ_L2CAP_RECV)
        got += board.ble.l2cap_recvinto(conn, cid, buf)
    run(send(channel, window))
    while got < 2 * MTU * window:
        board.wait(IRQ_L2CAP_RECV)
        got += board.ble.l2cap_recvinto(conn, cid, buf)
    assert IRQ_L2CAP_DISCONNECT not in board.codes()
    run(peer.close())
