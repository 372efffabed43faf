# aioble: L2CAP connection-oriented channel. A file sent in one send() arrives whole
# (chunked to the MTUs, paced by credits), the answer comes back on the same channel;
# connecting to a PSM nobody listens on raises L2CAPConnectionError; a peer closing
# the channel ends recvinto() with L2CAPDisconnectedError.
import asyncio
import bluetooth
import aioble

if not hasattr(bluetooth.BLE, "l2cap_connect"):
    print("SKIP")
    raise SystemExit

TIMEOUT_MS = 5000
PSM = 0x80
MTU = 200
SIZE = 30000  # enough to run out of credits and stall several times


def make_file(n):
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(n))


def checksum(data):
    return sum(data) & 0xFFFFFFFF


async def peripheral():
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    print("connected")
    try:
        await conn.l2cap_accept(PSM, MTU, timeout_ms=300)
    except asyncio.TimeoutError:
        print("accept timeout")
    multitest.broadcast("listening")
    ch = await conn.l2cap_accept(PSM, MTU, timeout_ms=TIMEOUT_MS)
    print("accepted", ch.psm, ch.our_mtu, ch.peer_mtu)
    received = bytearray()
    buf = bytearray(MTU)
    while len(received) < SIZE:
        n = await ch.recvinto(buf, TIMEOUT_MS)
        received += buf[:n]
    print("received", len(received), received == make_file(SIZE), ch.available())
    await ch.send(b"sum %d" % checksum(received), TIMEOUT_MS)
    await ch.flush(TIMEOUT_MS)
    try:
        await ch.recvinto(buf, TIMEOUT_MS)  # the central closes the channel
    except aioble.L2CAPDisconnectedError:
        print("recvinto ended by channel close")
    # A second channel: take a little of a long send, then hang up the whole link.
    ch = await conn.l2cap_accept(PSM, MTU, timeout_ms=TIMEOUT_MS)
    print("accepted again")
    n = await ch.recvinto(buf, TIMEOUT_MS)
    await conn.disconnect()
    print("disconnected mid-transfer", n > 0)


async def central():
    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    print("connected")
    try:
        await conn.l2cap_connect(PSM + 1, MTU, timeout_ms=TIMEOUT_MS)  # nobody listens there
    except aioble.L2CAPConnectionError as e:
        print("L2CAPConnectionError", e.args[0] != 0)
    multitest.wait("listening")
    async with await conn.l2cap_connect(PSM, MTU, timeout_ms=TIMEOUT_MS) as ch:
        print("connected channel", ch.psm, ch.our_mtu, ch.peer_mtu)
        data = make_file(SIZE)
        await ch.send(data, TIMEOUT_MS)
        await ch.flush(TIMEOUT_MS)
        buf = bytearray(64)
        n = await ch.recvinto(buf, TIMEOUT_MS)
        print("answer", bytes(buf[:n]) == b"sum %d" % checksum(data))
    print("channel closed")
    ch = await conn.l2cap_connect(PSM, MTU, timeout_ms=TIMEOUT_MS)
    try:
        await ch.send(bytes(200000), TIMEOUT_MS)  # the peripheral hangs up during this
    except aioble.L2CAPDisconnectedError:
        print("send ended by disconnect")
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")


def instance0():
    try:
        asyncio.run(peripheral())
    finally:
        aioble.stop()


def instance1():
    multitest.next()
    try:
        asyncio.run(central())
    finally:
        aioble.stop()
