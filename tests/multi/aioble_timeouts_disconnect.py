# aioble: every wait ends. Timeouts raise asyncio.TimeoutError (written, notified,
# connect, DeviceConnection.timeout()); a peer that disconnects ends written(),
# notified(), discovery and a timeout() body with DeviceDisconnectedError; operations
# on a dead connection raise at once.
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0401-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CHAR = bluetooth.UUID("7b7e0402-5d6a-4c2e-9a0e-3f1d2c3b4a59")


async def peripheral():
    svc = aioble.Service(SVC)
    # The central writes without response: a server may drop that on a characteristic
    # without the property (BTstack does, docs/firmware.md).
    char = aioble.Characteristic(svc, CHAR, read=True, write=True, write_no_response=True, notify=True)
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()

    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    print("1 connected")
    try:
        await char.written(300)
    except asyncio.TimeoutError:
        print("1 written timeout")
    try:
        async with conn.timeout(300):
            await asyncio.sleep(5)
    except asyncio.TimeoutError:
        print("1 timeout() body timed out")
    multitest.broadcast("phase1")
    try:
        await char.written()  # no timeout: the central disconnects
    except aioble.DeviceDisconnectedError:
        print("1 written ended by disconnect")

    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    print("2 connected")
    try:
        async with conn.timeout(None):
            await asyncio.sleep(10)
    except aioble.DeviceDisconnectedError:
        print("2 timeout() body ended by disconnect")

    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    await conn.disconnect()
    print("3 disconnected")

    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    await char.written(TIMEOUT_MS)
    await conn.disconnect()
    print("4 disconnected")
    try:
        char.notify(conn, b"late")
    except aioble.DeviceDisconnectedError:
        print("4 notify on a dead connection")


async def central():
    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    print("1 connected")
    char = await (await conn.service(SVC)).characteristic(CHAR)
    try:
        await char.notified(300)
    except asyncio.TimeoutError:
        print("1 notified timeout")
    try:
        await char.indicated(200)
    except asyncio.TimeoutError:
        print("1 indicated timeout")
    multitest.wait("phase1")
    await conn.disconnect()

    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    print("2 connected")
    await asyncio.sleep(0.3)
    await conn.disconnect()

    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    try:
        for _ in range(100):  # the peripheral hangs up at once: some discovery fails
            await conn.service(SVC)
    except aioble.DeviceDisconnectedError:
        print("3 discovery ended by disconnect")

    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    char = await (await conn.service(SVC)).characteristic(CHAR)
    await char.write(b"waiting", response=False)  # the peer hangs up at once (docs/design.md, known limits)
    try:
        await char.notified()  # no timeout: the peripheral disconnects
    except aioble.DeviceDisconnectedError:
        print("4 notified ended by disconnect")
    for name, op in (
        ("read", char.read()),
        ("write", char.write(b"x")),
        ("exchange_mtu", conn.exchange_mtu()),
        ("service", conn.service(SVC)),
        ("disconnected", conn.disconnected(0)),
    ):
        try:
            print("4 dead connection:", name, await op)
        except aioble.DeviceDisconnectedError:
            print("4 dead connection:", name, "DeviceDisconnectedError")

    try:
        await aioble.Device(aioble.ADDR_RANDOM, "c0:00:00:00:00:01").connect(timeout_ms=500)
    except asyncio.TimeoutError:
        print("5 connect timeout")
    print("5 radio still usable", len(aioble.config("mac")[1]))


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
