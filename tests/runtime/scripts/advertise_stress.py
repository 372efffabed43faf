"""Run aioble's advertise/connect path many times; report any connection advertise() missed.

A peripheral (aioble, deadline on its wait, as users write it) and a central (`bluetooth`)
share one in-process radio; both boards' irq handlers run on the main thread. Each round
the central connects and disconnects; a round where the central saw its connection but
advertise() ran into its timeout is a lost wake-up: the recent scheduler trace is printed
(run with BLEBOARD_DEBUG=1 to record one). Every other round the central hangs up from its
connect handler at once, so the peripheral's disconnect is often queued before advertise()
has run again: the connection must still be returned (as a disconnected one).

usage: python advertise_stress.py ROUNDS [latency]   -> prints "rounds N misses M" last
(latency: "fast" by default, so a hang-up completes within the handler's stall; or "board")
"""

import asyncio
import sys
import time

import aioble
import bluetooth
from bleboard.radio.local import LocalRadio
from bleboard.runtime import scheduler
from bleboard.runtime.threadsafeflag import ThreadSafeFlag

IRQ_PERIPHERAL_CONNECT, IRQ_PERIPHERAL_DISCONNECT = 7, 8
ADV_TIMEOUT_MS = 5000  # a round takes milliseconds; only a lost wake-up waits this long
STEP_TIMEOUT_S = 5.0
HANDLER_STALL_S = 0.03  # longer than a connection event: the disconnect completes meanwhile


class Central:
    def __init__(self, radio):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.ble.active(True)
        self.ble.irq(self._irq)
        self.conn = None
        self.changed = ThreadSafeFlag()
        self.hang_up = False  # disconnect from the connect handler itself
        self.connects = 0

    def _irq(self, event, data):
        if event == IRQ_PERIPHERAL_CONNECT:
            self.conn = data[0]
            self.connects += 1
            if self.hang_up:
                self.ble.gap_disconnect(data[0])
                # A slow handler (or a starved main thread): the peripheral's disconnect
                # is queued before its task has seen the connection.
                time.sleep(HANDLER_STALL_S)
            self.changed.set()
        elif event == IRQ_PERIPHERAL_DISCONNECT:
            self.conn = None
            self.changed.set()

    async def connected_once(self, before):
        async with asyncio.timeout(STEP_TIMEOUT_S):
            while self.connects == before:
                await self.changed.wait()

    async def until(self, connected):
        async with asyncio.timeout(STEP_TIMEOUT_S):
            while (self.conn is not None) != connected:
                await self.changed.wait()


async def main(rounds, latency):
    radio = LocalRadio(latency=latency)
    aioble.core.use(bluetooth.BLE.new(radio=radio))
    addr = aioble.config("mac")
    central = Central(radio)
    misses = 0
    t0 = time.monotonic()
    for i in range(rounds):
        central.hang_up = i % 2 == 1
        before = central.connects
        adv = asyncio.create_task(aioble.advertise(20000, timeout_ms=ADV_TIMEOUT_MS))
        await asyncio.sleep(0)  # advertising starts before the central looks for it
        central.ble.gap_connect(*addr)
        try:
            conn = await adv
        except asyncio.TimeoutError:
            conn = None
        await central.connected_once(before)
        if conn is None:
            misses += 1
            print("round %d: the central connected, advertise() timed out" % i, flush=True)
            if scheduler.DEBUG:
                scheduler.trace_dump(sys.stdout, last=400)
            if misses >= 3:
                rounds = i + 1
                break  # enough to show it; each miss costs the full timeout
        elif not central.hang_up:
            central.ble.gap_disconnect(central.conn)
        if conn is not None:
            await conn.disconnected(STEP_TIMEOUT_S * 1000)
        await central.until(False)
        if scheduler.DEBUG:
            scheduler.trace_clear()  # keep the trace of the current round only
    elapsed = time.monotonic() - t0
    print("%.1f ms/round" % (elapsed * 1000 / max(rounds, 1)))
    print("rounds %d misses %d" % (rounds, misses), flush=True)
    central.ble.active(False)
    aioble.stop()
    return misses


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    lat = sys.argv[2] if len(sys.argv) > 2 else "fast"
    sys.exit(1 if asyncio.run(main(n, lat)) else 0)
