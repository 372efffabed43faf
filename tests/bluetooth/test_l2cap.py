"""L2CAP channels through bluetooth.BLE on one in-process radio (spec §3.13, §4.1 events 22-26).

Two boards, a connection, then the channel rules: argument errors, the one-channel limit,
MTU clamping and limits, MicroPython's flow control (credits only after draining, False
then SEND_READY), ordering of disconnect events, and the ACCEPT handler's answer.
"""

import errno
import time

import pytest

import bluetooth

IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_PERIPHERAL_CONNECT = 7
IRQ_PERIPHERAL_DISCONNECT = 8
IRQ_L2CAP_ACCEPT = 22
IRQ_L2CAP_CONNECT = 23
IRQ_L2CAP_DISCONNECT = 24
IRQ_L2CAP_RECV = 25
IRQ_L2CAP_SEND_READY = 26

PSM = 22


class Board:
    """A BLE object whose events are kept as (event, plain tuple)."""

    def __init__(self, ble):
        self.ble = ble
        ble.active(True)
        self.events = []
        self.accept_answer = None
        ble.irq(self.irq)

    def irq(self, event, data):
        self.events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))
        if event == IRQ_L2CAP_ACCEPT:
            return self.accept_answer

    def wait(self, event, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            for i, (e, d) in enumerate(self.events):
                if e == event:
                    del self.events[i]
                    return d
            if time.monotonic() > deadline:
                raise AssertionError("no event %d; got %r" % (event, self.events))
            time.sleep(0.002)  # irq handlers run during the sleep

    def codes(self):
        return [e for e, _ in self.events]


def until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.002)


def oserr(excinfo, num):
    assert excinfo.value.errno == num, excinfo.value


@pytest.fixture
def pair(boards):
    """(listener board, connector board, conn handle on the connector, on the listener)."""
    p, c = (Board(b) for b in boards(2))
    p.ble.gap_advertise(20000)
    c.ble.gap_connect(*p.ble.config("mac"))
    conn = c.wait(IRQ_PERIPHERAL_CONNECT)[0]
    pconn = p.wait(IRQ_CENTRAL_CONNECT)[0]
    return p, c, conn, pconn


def open_channel(pair, mtu=450, peer_mtu=450):
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, mtu)
    c.ble.l2cap_connect(conn, PSM, peer_mtu)
    ccid = c.wait(IRQ_L2CAP_CONNECT)[1]
    pcid = p.wait(IRQ_L2CAP_CONNECT)[1]
    return ccid, pcid


def test_methods_exist_and_need_an_active_radio():
    ble = bluetooth.BLE.new()
    for name in ("l2cap_listen", "l2cap_connect", "l2cap_disconnect", "l2cap_send", "l2cap_recvinto"):
        assert hasattr(bluetooth.BLE, name)
    for call in (
        lambda: ble.l2cap_listen(PSM, 450),
        lambda: ble.l2cap_connect(0, PSM, 450),
        lambda: ble.l2cap_disconnect(0, 64),
        lambda: ble.l2cap_send(0, 64, b"x"),
        lambda: ble.l2cap_recvinto(0, 64, None),
    ):
        with pytest.raises(OSError) as e:
            call()
        oserr(e, errno.ENODEV)


def test_argument_rules(boards):
    (ble,) = boards(1)
    ble.active(True)
    with pytest.raises(TypeError):
        ble.l2cap_listen(psm=PSM, mtu=450)
    with pytest.raises(TypeError):
        ble.l2cap_listen(PSM)
    with pytest.raises(TypeError):
        ble.l2cap_connect(0, PSM, 450, 1)
    with pytest.raises(TypeError):
        ble.l2cap_listen("22", 450)
    with pytest.raises(TypeError):
        ble.l2cap_listen(PSM, 4.5)
    with pytest.raises(TypeError):
        ble.l2cap_send(0, 64, 12)
    with pytest.raises(TypeError):
        ble.l2cap_recvinto(0, 64, b"read-only")
    with pytest.raises(OSError) as e:
        ble.l2cap_listen(0, 450)
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        ble.l2cap_listen(0x10000, 450)  # truncated to 16 bits: PSM 0
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        ble.l2cap_connect(5, PSM, 450)
    oserr(e, errno.ENOTCONN)
    for call in (lambda: ble.l2cap_send(0, 64, b"x"), lambda: ble.l2cap_recvinto(0, 64, None),
                 lambda: ble.l2cap_disconnect(0, 64)):
        with pytest.raises(OSError) as e:
            call()
        oserr(e, errno.EINVAL)


def test_one_channel_and_listening_is_permanent(pair):
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, 450)
    for call in (lambda: p.ble.l2cap_listen(PSM + 1, 450), lambda: p.ble.l2cap_connect(pconn, PSM, 450)):
        with pytest.raises(OSError) as e:
            call()
        oserr(e, errno.EALREADY)
    c.ble.l2cap_connect(conn, PSM, 450)
    with pytest.raises(OSError) as e:
        c.ble.l2cap_connect(conn, PSM, 450)  # still connecting
    oserr(e, errno.EALREADY)
    ccid = c.wait(IRQ_L2CAP_CONNECT)[1]
    with pytest.raises(OSError) as e:
        c.ble.l2cap_listen(PSM, 450)
    oserr(e, errno.EALREADY)
    c.ble.l2cap_disconnect(conn, ccid)
    c.wait(IRQ_L2CAP_DISCONNECT)
    p.wait(IRQ_L2CAP_DISCONNECT)
    # The connector is free again; the listener accepts again.
    c.ble.l2cap_connect(conn, PSM, 450)
    c.wait(IRQ_L2CAP_CONNECT)
    p.wait(IRQ_L2CAP_CONNECT)


def test_events_carry_our_cid_and_both_mtus(pair):
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, 5)  # clamped to 32
    c.ble.l2cap_connect(conn, PSM, 100000)  # clamped to 65535
    accept = p.wait(IRQ_L2CAP_ACCEPT)
    pconnect = p.wait(IRQ_L2CAP_CONNECT)
    cconnect = c.wait(IRQ_L2CAP_CONNECT)
    assert accept == (pconn, accept[1], PSM, 32, 65535)
    assert pconnect == accept
    assert cconnect == (conn, cconnect[1], PSM, 65535, 32)
    assert 0x40 <= accept[1] <= 0x7F and 0x40 <= cconnect[1] <= 0x7F
    # Limits: the peer's MTU and twice our own.
    with pytest.raises(OSError) as e:
        c.ble.l2cap_send(conn, cconnect[1], bytes(33))  # > peer MTU 32
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        p.ble.l2cap_send(pconn, accept[1], bytes(65))  # > 2 * our MTU 32
    oserr(e, errno.EINVAL)
    assert c.ble.l2cap_send(conn, cconnect[1], bytes(32)) is True
    p.wait(IRQ_L2CAP_RECV)
    assert p.ble.l2cap_recvinto(pconn, accept[1], None) == 32


def test_recvinto_accumulates_and_reads_in_parts(pair):
    p, c, conn, pconn = pair
    ccid, pcid = open_channel(pair)
    for chunk in (b"first ", b"second ", b"third"):
        c.ble.l2cap_send(conn, ccid, chunk)
    until(lambda: p.codes().count(IRQ_L2CAP_RECV) == 3)  # one RECV per SDU
    assert p.ble.l2cap_recvinto(pconn, pcid, None) == 18
    buf = bytearray(5)
    got = b""
    while True:
        n = p.ble.l2cap_recvinto(pconn, pcid, buf)
        if not n:
            break
        got += buf[:n]
    assert got == b"first second third"
    assert p.ble.l2cap_recvinto(pconn, pcid, None) == 0
    p.events.clear()
    # Any writable buffer works, e.g. an array.
    import array

    c.ble.l2cap_send(conn, ccid, "héllo")  # str is a buffer (UTF-8), as in MicroPython
    p.wait(IRQ_L2CAP_RECV)
    arr = array.array("H", [0, 0, 0])
    assert p.ble.l2cap_recvinto(pconn, pcid, arr) == 6
    assert arr.tobytes() == "héllo".encode()
    # An empty send sends nothing and says more may follow.
    assert c.ble.l2cap_send(conn, ccid, b"") is True


def test_slow_reader_stalls_the_sender_until_drained(pair):
    p, c, conn, pconn = pair
    ccid, pcid = open_channel(pair, mtu=100, peer_mtu=100)
    sent = 0
    while c.ble.l2cap_send(conn, ccid, bytes([sent % 251]) * 100):
        sent += 1
        assert sent < 10000, "the receiver never stopped the sender"
    sent += 1  # the send that returned False still goes out, once credits come
    with pytest.raises(OSError) as e:
        c.ble.l2cap_send(conn, ccid, b"x")
    oserr(e, errno.EBUSY)
    # Everything the window allowed has arrived and waits for the application...
    window = sent - 1
    until(lambda: p.ble.l2cap_recvinto(pconn, pcid, None) == window * 100)
    # ...and the sender hears nothing until the reader drains: credits follow the drain.
    assert IRQ_L2CAP_SEND_READY not in c.codes()
    buf = bytearray(1000)
    received = bytearray()
    while len(received) < sent * 100:
        n = p.ble.l2cap_recvinto(pconn, pcid, buf)
        received += buf[:n]
        if not n:
            time.sleep(0.002)
    assert c.wait(IRQ_L2CAP_SEND_READY) == (conn, ccid, 0)
    assert received == b"".join(bytes([i % 251]) * 100 for i in range(sent))
    assert c.ble.l2cap_send(conn, ccid, b"more") is True


def test_refusal_and_default_accept(pair):
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, 450)
    p.accept_answer = 1
    c.ble.l2cap_connect(conn, PSM, 450)
    assert c.wait(IRQ_L2CAP_DISCONNECT)[2:] == (PSM, 6)  # NimBLE: no resources
    assert p.wait(IRQ_L2CAP_ACCEPT)[2:] == (PSM, 450, 450)
    p.accept_answer = 24  # BLE_HS_EAUTHOR: refused for insufficient authorization
    c.ble.l2cap_connect(conn, PSM, 450)
    assert c.wait(IRQ_L2CAP_DISCONNECT)[2:] == (PSM, 24)
    c.ble.l2cap_connect(conn, PSM + 1, 450)  # nobody listens there
    assert c.wait(IRQ_L2CAP_DISCONNECT)[2:] == (PSM + 1, 8)
    assert IRQ_L2CAP_CONNECT not in p.codes()
    p.ble.irq(None)  # no handler: accepted
    c.ble.l2cap_connect(conn, PSM, 450)
    c.wait(IRQ_L2CAP_CONNECT)


def test_accept_handler_too_slow_is_a_refusal(pair, monkeypatch):
    from bleboard.port import l2cap as port_l2cap

    monkeypatch.setattr(port_l2cap, "ACCEPT_TIMEOUT", 0.05)
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, 450)

    def slow(event, data):
        if event == IRQ_L2CAP_ACCEPT:
            time.sleep(1.0)  # far beyond the timeout
            return 0

    p.ble.irq(slow)
    c.ble.l2cap_connect(conn, PSM, 450)
    assert c.wait(IRQ_L2CAP_DISCONNECT)[2:] == (PSM, 6)
    # The late answer is ignored, and the listener can take the next channel.
    p.ble.irq(p.irq)
    c.ble.l2cap_connect(conn, PSM, 450)
    c.wait(IRQ_L2CAP_CONNECT)
    p.wait(IRQ_L2CAP_CONNECT)


def test_link_loss_mid_transfer_ends_the_channel_first(pair):
    p, c, conn, pconn = pair
    ccid, pcid = open_channel(pair, mtu=200, peer_mtu=200)
    while c.ble.l2cap_send(conn, ccid, bytes(200)):
        pass  # stalled now: nobody reads on the other side
    p.ble.gap_disconnect(pconn)
    until(lambda: IRQ_PERIPHERAL_DISCONNECT in c.codes() and IRQ_CENTRAL_DISCONNECT in p.codes())
    for board, cid, last in ((c, ccid, IRQ_PERIPHERAL_DISCONNECT), (p, pcid, IRQ_CENTRAL_DISCONNECT)):
        tail = [(e, d) for e, d in board.events if e not in (IRQ_L2CAP_RECV, IRQ_L2CAP_ACCEPT)]
        assert [e for e, _ in tail] == [IRQ_L2CAP_DISCONNECT, last]
        assert tail[0][1][1:] == (cid, PSM, 0)
    with pytest.raises(OSError) as e:
        c.ble.l2cap_send(conn, ccid, b"x")
    oserr(e, errno.EINVAL)  # no such channel any more (spec, and NimBLE)
    with pytest.raises(OSError) as e:
        c.ble.l2cap_recvinto(conn, ccid, None)
    oserr(e, errno.EINVAL)


def test_disconnect_event_order_and_status(pair):
    p, c, conn, pconn = pair
    ccid, pcid = open_channel(pair)
    seen = []
    c.ble.irq(lambda e, d: seen.append((e, tuple(d))))
    p.ble.gap_disconnect(pconn)
    until(lambda: any(e == IRQ_PERIPHERAL_DISCONNECT for e, _ in seen))
    assert [e for e, _ in seen] == [IRQ_L2CAP_DISCONNECT, IRQ_PERIPHERAL_DISCONNECT]
    assert seen[0][1] == (conn, ccid, PSM, 0)


def test_connect_unanswered_times_out_or_ends_with_the_link(boards, radio, monkeypatch):
    """A peer that never answers the request: DISCONNECT with BLE_HS_ETIMEOUT after the
    connect timeout; then, with the link dropped while waiting, BLE_HS_ENOTCONN before the
    connection's own disconnect event."""
    from bumble.device import Device
    from bumble.hci import Address

    from bleboard.port import l2cap as port_l2cap
    from bleboard.port import loop

    monkeypatch.setattr(port_l2cap, "CONNECT_TIMEOUT", 0.3)

    (ble,) = boards(1)
    c = Board(ble)
    rl = loop.get()
    requests = []

    async def start_peer():
        transport = radio.attach()
        device = Device.with_hci("silent", Address.generate_static_address(), transport.source, transport.sink)
        await device.power_on()
        device.l2cap_channel_manager.on_l2cap_le_credit_based_connection_request = (
            lambda connection, cid, frame: requests.append(connection))
        await device.start_advertising()
        return device

    device = rl.run(start_peer())
    c.ble.gap_connect(1, bytes(reversed(bytes(device.random_address))))
    conn = c.wait(IRQ_PERIPHERAL_CONNECT)[0]
    c.ble.l2cap_connect(conn, PSM, 450)
    timed_out = c.wait(IRQ_L2CAP_DISCONNECT)
    assert timed_out[2:] == (PSM, 13)  # BLE_HS_ETIMEOUT
    monkeypatch.setattr(port_l2cap, "CONNECT_TIMEOUT", 30.0)
    c.ble.l2cap_connect(conn, PSM, 450)  # the channel is free again
    until(lambda: len(requests) == 2)

    async def drop():
        await requests[0].disconnect()

    rl.run(drop())
    until(lambda: IRQ_PERIPHERAL_DISCONNECT in c.codes())
    assert [e for e, _ in c.events] == [IRQ_L2CAP_DISCONNECT, IRQ_PERIPHERAL_DISCONNECT]
    assert c.events[0][1][2:] == (PSM, 7)  # BLE_HS_ENOTCONN
    assert c.events[0][1][1] == timed_out[1]  # the timed-out attempt's CID was freed
    assert 0x40 <= timed_out[1] <= 0x7F
    rl.run(device.host.reset())


def test_restart_forgets_the_channel(pair):
    p, c, conn, pconn = pair
    open_channel(pair)
    p.ble.active(False)
    c.wait(IRQ_L2CAP_DISCONNECT)
    c.wait(IRQ_PERIPHERAL_DISCONNECT)
    assert IRQ_L2CAP_DISCONNECT not in p.codes()  # stopping the radio raises nothing
    p.ble.active(True)
    p.ble.l2cap_listen(PSM, 450)  # listening again is allowed after a restart
    c.ble.l2cap_listen(PSM, 450)  # the connector's channel is free as well


def test_standard_peer_cutting_sdus_into_small_pdus(boards, radio):
    """A plain Bumble peer (not MicroPython-like) that cuts its SDUs into 23-byte PDUs: every
    SDU still arrives whole and in order, though our credit window counts whole SDUs."""
    from bumble import l2cap
    from bumble.device import Device
    from bumble.hci import Address

    from bleboard.port import loop

    (ble,) = boards(1)
    p = Board(ble)
    p.ble.l2cap_listen(PSM, 450)
    p.ble.gap_advertise(20000)
    addr_type, addr = p.ble.config("mac")
    rl = loop.get()
    got_back = bytearray()
    payload = bytes((i * 13) & 0xFF for i in range(450 * 40))

    async def start_peer():
        transport = radio.attach()
        device = Device.with_hci("raw", Address.generate_static_address(), transport.source, transport.sink)
        await device.power_on()
        connection = await device.connect(Address(bytes(reversed(addr)), addr_type))
        channel = await device.create_l2cap_channel(
            connection, l2cap.LeCreditBasedChannelSpec(psm=PSM, mtu=450, mps=23, max_credits=8))
        channel.sink = got_back.extend
        channel.peer_mps = 23  # PDUs may be smaller than the receiver's MPS; this peer's are
        for i in range(13):
            channel.write(b"%c" % (65 + i))
        return device, connection, channel

    async def send_big():
        for i in range(0, len(payload), 450):
            channel.write(payload[i:i + 450])

    device, connection, channel = rl.run(start_peer())
    pconn, pcid = p.wait(IRQ_L2CAP_CONNECT)[:2]
    buf = bytearray(300)
    received = bytearray()
    # 13 one-PDU SDUs, each drained: the peer keeps 19 of our 32 credits (more than half, so
    # no top-up yet), fewer than the 20 PDUs its next 450-byte SDU needs.
    while len(received) < 13:
        p.wait(IRQ_L2CAP_RECV)
        received += buf[:p.ble.l2cap_recvinto(pconn, pcid, buf)]
    assert received == b"ABCDEFGHIJKLM"
    received = bytearray()
    rl.run(send_big())
    while len(received) < len(payload):
        p.wait(IRQ_L2CAP_RECV)
        while True:
            n = p.ble.l2cap_recvinto(pconn, pcid, buf)
            if not n:
                break
            received += buf[:n]
    assert received == payload
    # Our sends reach it too.
    for i in range(0, 4500, 450):
        if not p.ble.l2cap_send(pconn, pcid, payload[i:i + 450]):
            p.wait(IRQ_L2CAP_SEND_READY)
    until(lambda: len(got_back) == 4500)
    assert bytes(got_back) == payload[:4500]

    async def stop_peer():
        await connection.disconnect()
        await device.host.reset()

    rl.run(stop_peer())
    p.wait(IRQ_L2CAP_DISCONNECT)


def test_extension_several_channels_on_one_connection(pair):
    p, c, conn, pconn = pair
    assert c.ble.l2cap_max_channels() == 1  # MicroPython's limit by default
    with pytest.raises(ValueError):
        c.ble.l2cap_max_channels(0)
    with pytest.raises(TypeError):
        c.ble.l2cap_max_channels("2")
    p.ble.l2cap_max_channels(3)
    c.ble.l2cap_max_channels(2)
    p.ble.l2cap_listen(PSM, 450)
    p.ble.l2cap_listen(PSM + 1, 200)  # several PSMs; listening takes no channel
    with pytest.raises(OSError) as e:
        p.ble.l2cap_listen(PSM, 450)
    oserr(e, errno.EALREADY)
    c.ble.l2cap_connect(conn, PSM, 450)
    c.ble.l2cap_connect(conn, PSM + 1, 100)  # both at once: the ACCEPTs are pending together
    with pytest.raises(OSError) as e:
        c.ble.l2cap_connect(conn, PSM, 450)
    oserr(e, errno.ENOMEM)
    until(lambda: c.codes().count(IRQ_L2CAP_CONNECT) == 2 and p.codes().count(IRQ_L2CAP_CONNECT) == 2)
    accepts = {d[2]: d for e, d in p.events if e == IRQ_L2CAP_ACCEPT}
    pconnects = {d[2]: d for e, d in p.events if e == IRQ_L2CAP_CONNECT}
    cconnects = {d[2]: d for e, d in c.events if e == IRQ_L2CAP_CONNECT}
    assert accepts == pconnects  # each ACCEPT showed the CID the channel got
    assert pconnects[PSM][3:] == (450, 450) and pconnects[PSM + 1][3:] == (200, 100)
    assert cconnects[PSM][3:] == (450, 450) and cconnects[PSM + 1][3:] == (100, 200)
    ccid = {psm: d[1] for psm, d in cconnects.items()}
    pcid = {psm: d[1] for psm, d in pconnects.items()}
    assert len(set(ccid.values())) == 2 and len(set(pcid.values())) == 2
    p.events.clear()
    c.ble.l2cap_send(conn, ccid[PSM], b"to 22")
    c.ble.l2cap_send(conn, ccid[PSM + 1], b"to 23")
    until(lambda: p.codes().count(IRQ_L2CAP_RECV) == 2)
    buf = bytearray(16)
    for psm in (PSM, PSM + 1):
        n = p.ble.l2cap_recvinto(pconn, pcid[psm], buf)
        assert bytes(buf[:n]) == b"to %d" % psm
    # Closing one leaves the other working; then the link drops with one still open.
    c.ble.l2cap_disconnect(conn, ccid[PSM])
    assert c.wait(IRQ_L2CAP_DISCONNECT)[1:] == (ccid[PSM], PSM, 0)
    assert p.wait(IRQ_L2CAP_DISCONNECT)[1:] == (pcid[PSM], PSM, 0)
    p.ble.l2cap_send(pconn, pcid[PSM + 1], b"still here")
    c.wait(IRQ_L2CAP_RECV)
    n = c.ble.l2cap_recvinto(conn, ccid[PSM + 1], buf)
    assert bytes(buf[:n]) == b"still here"
    c.events.clear()
    p.ble.gap_disconnect(pconn)
    until(lambda: IRQ_PERIPHERAL_DISCONNECT in c.codes())
    assert [e for e, _ in c.events] == [IRQ_L2CAP_DISCONNECT, IRQ_PERIPHERAL_DISCONNECT]
    assert c.events[0][1][1:] == (ccid[PSM + 1], PSM + 1, 0)


def test_accept_handler_raising_gets_the_default_answer(pair, capsys):
    """Spec §5.3: the exception is printed, the handler uninstalled, the request accepted."""
    p, c, conn, pconn = pair
    p.ble.l2cap_listen(PSM, 450)

    def broken(event, data):
        if event == IRQ_L2CAP_ACCEPT:
            raise RuntimeError("handler bug")

    p.ble.irq(broken)
    c.ble.l2cap_connect(conn, PSM, 450)
    assert c.wait(IRQ_L2CAP_CONNECT)[2:] == (PSM, 450, 450)
    assert "Unhandled exception in IRQ callback handler" in capsys.readouterr().out
