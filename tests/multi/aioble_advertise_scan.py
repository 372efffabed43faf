# aioble: advertise with every payload field (automatic split into the scan response),
# scan passively (advertising data only) and actively (plus scan response), filter by
# service, a non-connectable broadcast for a fixed time, and advertise()'s timeout.
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC16 = bluetooth.UUID(0x181A)  # environmental sensing
SVC128 = bluetooth.UUID("7b7e0101-5d6a-4c2e-9a0e-3f1d2c3b4a59")
NAME = "aioble-scan-test-name"  # 21 bytes: with the 128-bit UUID it cannot all fit in 31


async def find(active, want=None, duration_ms=TIMEOUT_MS):
    # The first result from PERIPHERAL (with the field `want` if given), or None.
    async with aioble.scan(duration_ms, 20000, 20000, active=active) as scanner:
        async for r in scanner:
            if r.device.addr == PERIPHERAL[1] and (want is None or want(r)):
                return r


async def scan_until_stopped():
    async for _ in aioble.scan(0):
        pass
    return "scan ended by connect"


async def cancel_later(scanner):
    await asyncio.sleep(0.3)
    scanner.cancel()


async def peripheral():
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    # 1: connectable, every field; the central scans passively then actively, then connects.
    conn = await aioble.advertise(
        20000,
        name=NAME,
        services=[SVC16, SVC128],
        appearance=0x0341,
        manufacturer=(0xFFFF, b"\x01\x02"),
        timeout_ms=TIMEOUT_MS * 2,
    )
    print("connected")
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")
    # 2: a non-connectable broadcast for 1.5 s returns None.
    print("broadcast", await aioble.advertise(20000, name="bcast", connectable=False, timeout_ms=1500))
    multitest.broadcast("broadcast done")
    # 3: nobody connects: advertise() times out (and stops advertising).
    multitest.wait("scanning")
    try:
        await aioble.advertise(20000, name="nobody", timeout_ms=500)
    except asyncio.TimeoutError:
        print("advertise timeout")
    multitest.broadcast("stopped")


async def central():
    r = await find(False)
    print("passive", r.connectable, r.resp_data, r.name())
    print("passive services", list(r.services()))
    r = await find(True, lambda r: r.resp_data)
    print("active", r.connectable, r.name(), r.rssi < 0)
    print("active services", list(r.services()), SVC16 in r.services())
    print("manufacturer", list(r.manufacturer()), list(r.manufacturer(0x0059)))
    # Where the fields went: flags, name and the 16-bit list in adv, the rest in resp.
    print("adv", len(r.adv_data), r.adv_data[:3], "resp", len(r.resp_data))
    scanning = asyncio.create_task(scan_until_stopped())
    await asyncio.sleep(0.1)
    conn = await r.device.connect(timeout_ms=TIMEOUT_MS)  # ends that scan
    print("connected")
    print(await scanning)
    await conn.disconnect()
    print("disconnected")
    r = await find(True, lambda r: r.name() == "bcast")
    print("broadcast", r.connectable, r.name())
    multitest.wait("broadcast done")
    # The advertisement that times out is seen while it runs, and not after.
    multitest.broadcast("scanning")
    r = await find(False, lambda r: r.name() == "nobody")
    print("seen before timeout", r is not None)
    multitest.wait("stopped")
    print("seen after timeout", await find(False, lambda r: r.name() == "nobody", 1000) is not None)
    # An indefinite scan ends when cancelled.
    async with aioble.scan(0) as scanner:
        asyncio.create_task(cancel_later(scanner))
        async for _ in scanner:
            pass
    print("cancelled scan ended")


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
