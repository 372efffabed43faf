# aioble: stop() tears everything down and aioble starts again afterwards. Pending
# written() / notified() end with DeviceDisconnectedError, disconnected() returns,
# a pending advertise() or connect() raises OSError(ENODEV), a running scan ends.
# multitest-skip: micropython-btstack -- BTstack v1.28 on unix cannot be activated again after active(False): active(True) waits forever (docs/firmware.md; shown by tests/firmware/multi/btstack_reactivate.py)
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0501-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CHAR = bluetooth.UUID("7b7e0502-5d6a-4c2e-9a0e-3f1d2c3b4a59")


async def outcome(name, task):
    try:
        print(name, "returned", await task)
    except OSError as e:
        print(name, "OSError", e.args[0])
    except Exception as e:
        print(name, type(e).__name__)


async def peripheral():
    svc = aioble.Service(SVC)
    # The central writes without response: a server may drop that on a characteristic
    # without the property (BTstack does, docs/firmware.md).
    char = aioble.Characteristic(svc, CHAR, read=True, write=True, write_no_response=True, notify=True)
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    print("connected")
    await char.written(TIMEOUT_MS)  # the central is ready
    tasks = (
        ("written", asyncio.create_task(char.written())),
        ("disconnected", asyncio.create_task(conn.disconnected())),
        ("advertise", asyncio.create_task(aioble.advertise(20000))),
    )
    await asyncio.sleep(0)  # every task is now waiting
    aioble.stop()
    for name, task in tasks:
        await outcome(name, task)
    print("connected after stop", conn.is_connected())
    # Everything works again: services must be registered anew.
    aioble.register_services(svc)
    multitest.broadcast("restarted")
    conn = await aioble.advertise(20000, services=[SVC], timeout_ms=TIMEOUT_MS)
    print("connected again")
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")


async def scan_all():
    n = 0
    async for _ in aioble.scan(0):
        n += 1
    return "scan ended"


async def central():
    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    print("connected")
    char = await (await conn.service(SVC)).characteristic(CHAR)
    notified = asyncio.create_task(char.notified())
    await asyncio.sleep(0)
    await char.write(b"ready", response=False)  # the peer stops at once: no response to wait for
    await outcome("notified", notified)  # the peripheral stopped: the link is gone
    # Our own stop: a running scan ends, then a pending connection attempt fails.
    scanning = asyncio.create_task(scan_all())
    await asyncio.sleep(0)
    aioble.stop()
    await outcome("scan", scanning)
    connecting = asyncio.create_task(aioble.Device(aioble.ADDR_RANDOM, "c0:00:00:00:00:02").connect(timeout_ms=TIMEOUT_MS))
    await asyncio.sleep(0)
    aioble.stop()
    await outcome("connect", connecting)
    multitest.wait("restarted")
    # Find it again by service: its address may have changed (a random static one would).
    async with aioble.scan(TIMEOUT_MS, 20000, 20000) as scanner:
        async for r in scanner:
            if SVC in r.services():
                break
    conn = await r.device.connect(timeout_ms=TIMEOUT_MS)
    print("connected again")
    await conn.disconnect()
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
