"""aioble behaves as upstream on a board: a characteristic keeps only its latest unread
notification/indication unless a deeper queue is asked for, and every call that takes a
buffer on MicroPython also takes a str (MicroPython's str has the buffer protocol).

aioble runs against a raw `bluetooth` peer on an in-process radio.  Ordering is awaited,
never slept on: ATT delivers a peer's notifications before its answer to a later read,
so once a read returns, every notification sent before it has been handled.
"""

import asyncio
import threading

import pytest

import bluetooth
from bluetooth import UUID

import aioble
from aioble import core

SVC = UUID(0xFE40)
CHR = UUID(0xFE41)
_FLAGS = bluetooth.FLAG_READ | bluetooth.FLAG_WRITE | bluetooth.FLAG_NOTIFY | bluetooth.FLAG_INDICATE
_IRQ_CENTRAL_CONNECT = 1
_IRQ_GATTS_WRITE = 3
_IRQ_L2CAP_ACCEPT = 22
_IRQ_L2CAP_RECV = 25
_PSM = 0x0081
T = 5000


@pytest.fixture
def pair(monkeypatch):
    """(peer BLE with one characteristic, its value handle, events): aioble uses a second board."""
    from bleboard.radio.local import LocalRadio

    monkeypatch.setattr(core, "_ble", None)
    monkeypatch.setattr(core, "_on", False)
    radio = LocalRadio(latency="fast")
    peer = bluetooth.BLE.new(radio=radio)
    peer.active(True)
    ((h,),) = peer.gatts_register_services(((SVC, ((CHR, _FLAGS),)),))
    peer.gatts_write(h, b"v0")
    events = {"writes": [], "l2cap": bytearray(), "rx": threading.Event(), "connected": threading.Event()}
    scratch = bytearray(64)

    def irq(event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            events["conn_handle"] = data[0]
            events["connected"].set()
        elif event == _IRQ_GATTS_WRITE:
            events["writes"].append(bytes(peer.gatts_read(data[1])))
        elif event == _IRQ_L2CAP_ACCEPT:
            return 0
        elif event == _IRQ_L2CAP_RECV:
            n = peer.l2cap_recvinto(data[0], data[1], scratch)
            events["l2cap"].extend(scratch[:n])
            events["rx"].set()

    peer.irq(irq)
    peer.gap_advertise(20000)
    core.use(bluetooth.BLE.new(radio=radio))
    try:
        yield peer, h, events
    finally:
        aioble.stop()
        peer.active(False)


async def _connect(peer):
    conn = await aioble.Device(*peer.config("mac")).connect(timeout_ms=T)
    char = await (await conn.service(SVC, T)).characteristic(CHR, T)
    return conn, char


async def _set(event):
    """Await a threading.Event set by the peer's irq handler (bounded)."""
    assert await asyncio.get_running_loop().run_in_executor(None, event.wait, T / 1000)


async def _peer_conn(events):
    # The peer's own handle for the link (each controller numbers its links itself).
    await _set(events["connected"])
    return events["conn_handle"]


async def _notify_burst(peer, h, events, values):
    ch = await _peer_conn(events)
    for v in values:
        peer.gatts_notify(ch, h, v)


def test_notified_keeps_only_the_latest(pair):
    peer, h, events = pair

    async def main():
        conn, char = await _connect(peer)
        await char.subscribe(notify=True)
        await _notify_burst(peer, h, events, (b"n1", b"n2", b"n3"))
        await char.read(T)  # answered after the three notifications: they have all arrived
        first = await char.notified(T)
        with pytest.raises(asyncio.TimeoutError):
            await char.notified(200)  # no second, stale value
        await conn.disconnect()
        return first

    assert asyncio.run(main()) == b"n3"


def test_deeper_queue_is_opt_in(pair):
    peer, h, events = pair

    async def main():
        conn, char = await _connect(peer)
        char.queue_depth = 3
        await char.subscribe(notify=True)
        await _notify_burst(peer, h, events, (b"n1", b"n2", b"n3", b"n4"))
        await char.read(T)
        got = [await char.notified(T) for _ in range(3)]
        with pytest.raises(asyncio.TimeoutError):
            await char.notified(200)
        await conn.disconnect()
        return got

    assert asyncio.run(main()) == [b"n2", b"n3", b"n4"]  # the oldest dropped beyond the depth


def test_indicated_keeps_only_the_latest(pair):
    peer, h, events = pair

    async def main():
        conn, char = await _connect(peer)
        await char.subscribe(notify=False, indicate=True)
        ch = await _peer_conn(events)
        for v in (b"i1", b"i2"):
            peer.gatts_indicate(ch, h, v)
            await char.read(T)  # after the indication: it has been handled (and confirmed)
        got = await char.indicated(T)
        with pytest.raises(asyncio.TimeoutError):
            await char.indicated(200)
        await conn.disconnect()
        return got

    assert asyncio.run(main()) == b"i2"


def test_client_write_takes_str(pair):
    peer, h, events = pair

    async def main():
        conn, char = await _connect(peer)
        await char.write("caf\u00e9", response=True, timeout_ms=T)
        value = await char.read(T)
        await conn.disconnect()
        return value

    assert asyncio.run(main()) == "caf\u00e9".encode()
    assert events["writes"] == ["caf\u00e9".encode()]


def test_l2cap_send_takes_str(pair):
    peer, h, events = pair
    peer.l2cap_listen(_PSM, 64)

    async def main():
        conn = await aioble.Device(*peer.config("mac")).connect(timeout_ms=T)
        channel = await conn.l2cap_connect(_PSM, 64, timeout_ms=T)
        await channel.send("hello, board")
        await channel.flush(T)
        await _set(events["rx"])
        await channel.disconnect(T)
        await conn.disconnect()

    asyncio.run(main())
    assert bytes(events["l2cap"]) == b"hello, board"


def test_server_calls_take_str(monkeypatch):
    # Before registration write() keeps the value; after it the binding takes the str.
    from bleboard.radio.local import LocalRadio

    monkeypatch.setattr(core, "_ble", None)
    monkeypatch.setattr(core, "_on", False)
    core.use(bluetooth.BLE.new(radio=LocalRadio(latency="fast")))
    try:
        svc = aioble.Service(SVC)
        char = aioble.Characteristic(svc, CHR, read=True, notify=True)
        char.write("before")
        aioble.register_services(svc)
        assert char.read() == b"before"
        char.write("after", send_update=True)
        assert char.read() == b"after"
    finally:
        aioble.stop()
