"""Benchmark: L2CAP bulk throughput through our `bluetooth` against raw Bumble.

Both sides use an in-process LocalRadio in fast mode (no per-event latency) and the same
channel MTU and MPS, so what is measured is the cost of the stacks: ours adds the
main-thread hand-over of every send and receive and MicroPython's flow control (the
receiver gives credits back only once the application has drained its data); raw Bumble
writes from its own loop and tops credits up by itself. The best of a few interleaved runs
is kept, as the machine may be busy. Prints each figure and the ratio ours/raw (target
>= 0.85x, issue 3). Never fails. `python bench/bench_l2cap.py [ROUNDS]`.
"""

import asyncio
import sys
import threading
import time

import bluetooth
import rawbumble
from bumble import l2cap

from bleboard.port.l2cap import mps_for
from bleboard.radio.local import LocalRadio

TOTAL = 1_000_000
ROUNDS = 3
PSM = 0x80
SIZES = (450, 2048, 8192)

IRQ_CENTRAL_CONNECT, IRQ_PERIPHERAL_CONNECT = 1, 7
IRQ_L2CAP_CONNECT, IRQ_L2CAP_DISCONNECT, IRQ_L2CAP_RECV, IRQ_L2CAP_SEND_READY = 23, 24, 25, 26


# ---- raw Bumble ----------------------------------------------------------------
async def raw_bench(mtu):
    periph, central = await rawbumble.devices()
    spec = l2cap.LeCreditBasedChannelSpec(psm=PSM, mtu=mtu, mps=mps_for(mtu))
    received = [0]
    done = asyncio.get_running_loop().create_future()
    opened = asyncio.get_running_loop().create_future()

    def on_channel(channel):
        def sink(sdu):
            received[0] += len(sdu)
            if received[0] >= TOTAL and not done.done():
                done.set_result(None)

        channel.sink = sink
        opened.set_result(channel)

    periph.create_l2cap_server(spec, handler=on_channel)
    conn, _ = await rawbumble.connect(periph, central)
    channel = await central.create_l2cap_channel(conn, l2cap.LeCreditBasedChannelSpec(
        psm=PSM, mtu=mtu, mps=mps_for(mtu)))
    await opened
    chunk = bytes(mtu)
    t0 = time.perf_counter()
    sent = 0
    while sent < TOTAL:
        channel.write(chunk)
        sent += len(chunk)
        await channel.drain()
    await asyncio.wait_for(done, 120)
    elapsed = time.perf_counter() - t0
    await conn.disconnect()
    return received[0] / elapsed / 1000


# ---- ours ------------------------------------------------------------------------
class Board:
    """One radio; the receiver drains in its RECV handler, the sender sends from SEND_READY."""

    def __init__(self, radio):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.ble.active(True)
        self.events = []
        self.received = 0
        self.buf = bytearray(65536)
        self.sending = None  # (conn, cid, chunk) while a transfer runs
        self.sent = 0
        self.done = threading.Event()
        self.ble.irq(self.irq)

    def irq(self, event, data):
        if event == IRQ_L2CAP_RECV:
            # Drain: a short read means nothing is left (then the peer gets its credits).
            while True:
                n = self.ble.l2cap_recvinto(data[0], data[1], self.buf)
                self.received += n
                if n < len(self.buf):
                    break
            if self.received >= TOTAL:
                self.done.set()
        elif event == IRQ_L2CAP_SEND_READY:
            self.pump()
        else:
            self.events.append((event, tuple(data[:3])))

    def pump(self):
        conn, cid, chunk = self.sending
        send = self.ble.l2cap_send
        while self.sent < TOTAL:
            self.sent += len(chunk)
            if not send(conn, cid, chunk):
                return

    def wait(self, event, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            for i, (e, d) in enumerate(self.events):
                if e == event:
                    del self.events[i]
                    return d
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            time.sleep(0.0002)


def ours_bench(mtu):
    radio = LocalRadio(latency="fast")
    periph, central = Board(radio), Board(radio)
    periph.ble.l2cap_listen(PSM, mtu)
    periph.ble.gap_advertise(20000)
    central.ble.gap_connect(*periph.ble.config("mac"))
    conn = central.wait(IRQ_PERIPHERAL_CONNECT)[0]
    central.ble.l2cap_connect(conn, PSM, mtu)
    cid = central.wait(IRQ_L2CAP_CONNECT)[1]
    periph.wait(IRQ_L2CAP_CONNECT)
    central.sending = (conn, cid, bytes(mtu))
    t0 = time.perf_counter()
    central.pump()
    periph.done.wait(120)  # irq handlers run during the wait (the signal interrupts it)
    elapsed = time.perf_counter() - t0
    result = periph.received / elapsed / 1000
    central.ble.gap_disconnect(conn)
    central.ble.active(False)
    periph.ble.active(False)
    return result


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    print("L2CAP bulk: bluetooth vs raw Bumble (fast virtual link, in-process, %d KB per run,"
          " best of %d interleaved runs)" % (TOTAL // 1000, rounds))
    print("%-24s %12s %12s %8s %s" % ("measure", "raw", "bluetooth", "ratio", "target"))
    for mtu in SIZES:
        raw, ours = [], []
        for _ in range(rounds):  # interleaved, so a busy moment of the machine hits both
            raw.append(asyncio.run(raw_bench(mtu)))
            ours.append(ours_bench(mtu))
        print("%-24s %12.1f %12.1f %7.2fx %s" % (
            "MTU %d (KB/s)" % mtu, max(raw), max(ours), max(ours) / max(raw), ">= 0.85x"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
