"""Run aioble's advertise/connect path many times; report any connection advertise() missed.

A peripheral (aioble, deadline on its wait, as users write it) and a central (`bluetooth`)
share one in-process radio; both boards' irq handlers run on the main thread. Each round
the central connects and disconnects; a round where the central saw its connection but
advertise() ran into its timeout is a lost wake-up: the recent scheduler trace is printed
(run with BLEBOARD_DEBUG=1 to record one).

usage: python advertise_stress.py ROUNDS [latency]   -> prints "rounds N misses M" last
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


class Central:
    def __init__(self, radio):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.ble.active(True)
        self.ble.irq(self._irq)
        self.conn = None
        self.changed = ThreadSafeFlag()

    def _irq(self, event, data):
        if event == IRQ_PERIPHERAL_CONNECT:
            self.conn = data[0]
            self.changed.set()
        elif event == IRQ_PERIPHERAL_DISCONNECT:
            self.conn = None
            self.changed.set()

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
        adv = asyncio.create_task(aioble.advertise(20000, timeout_ms=ADV_TIMEOUT_MS))
        await asyncio.sleep(0)  # advertising starts before the central looks for it
        central.ble.gap_connect(*addr)
        try:
            conn = await adv
        except asyncio.TimeoutError:
            conn = None
        await central.until(True)
        if conn is None:
            misses += 1
            print("round %d: the central connected, advertise() timed out" % i, flush=True)
            if scheduler.DEBUG:
                scheduler.trace_dump(sys.stdout, last=400)
            central.ble.gap_disconnect(central.conn)
            await central.until(False)
            continue
        central.ble.gap_disconnect(central.conn)
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
    lat = sys.argv[2] if len(sys.argv) > 2 else "board"
    sys.exit(1 if asyncio.run(main(n, lat)) else 0)
