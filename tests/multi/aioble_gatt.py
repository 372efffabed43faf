# aioble: one connection, the whole GATT round: scan by name and service, connect,
# exchange MTU, discover, read, write (with and without response), written(),
# notify and indicate (with confirmation), descriptors, GattError, disconnect.
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0001-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CHAR = bluetooth.UUID("7b7e0002-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CAPTURE = bluetooth.UUID("7b7e0003-5d6a-4c2e-9a0e-3f1d2c3b4a59")
DESC = bluetooth.UUID(0x2901)  # characteristic user description


async def peripheral():
    svc = aioble.Service(SVC)
    char = aioble.Characteristic(svc, CHAR, read=True, write=True, notify=True, indicate=True, initial=b"v0")
    desc = aioble.Descriptor(char, DESC, read=True, write=True, initial=b"level")
    capture = aioble.Characteristic(svc, CAPTURE, write=True, write_no_response=True, capture=True)
    aioble.register_services(svc)
    print("flags", char.flags, capture.flags, desc.flags)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, name="aioble-gatt", services=[SVC], timeout_ms=TIMEOUT_MS)
    print("connected", conn.device.addr_type in (0, 1))
    who = await char.written(TIMEOUT_MS)
    print("written", who is conn, char.read())
    char.notify(conn, b"note1")
    char.write(b"v1")
    char.notify(conn)
    who = await desc.written(TIMEOUT_MS)
    print("desc written", desc.read())
    await char.indicate(conn, b"ind1", timeout_ms=TIMEOUT_MS)
    print("indicate confirmed")
    for _ in range(3):
        who, data = await capture.written(TIMEOUT_MS)
        print("captured", who is conn, data)
    print("mtu", await conn.mtu_exchanged(TIMEOUT_MS))
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected", conn.is_connected())


async def central():
    async with aioble.scan(TIMEOUT_MS, interval_us=30000, window_us=30000, active=True) as scanner:
        async for result in scanner:
            if result.name() == "aioble-gatt" and SVC in result.services():
                break
    print("found", result.device == aioble.Device(*PERIPHERAL), result.connectable, list(result.services()))
    conn = await result.device.connect(timeout_ms=TIMEOUT_MS)
    print("connected")
    async with conn:
        print("mtu", await conn.exchange_mtu(100))
        svc = await conn.service(SVC)
        print("service", svc.uuid)
        chars = []
        async for c in svc.characteristics():
            chars.append(c)
        print("characteristics", [(c.uuid, c.properties) for c in chars])
        char = await svc.characteristic(CHAR)
        capture = await svc.characteristic(CAPTURE)
        char.queue_depth = 2  # two notifications arrive back to back: keep both (default: the latest)
        print("read", await char.read(TIMEOUT_MS))
        await char.write(b"hello", timeout_ms=TIMEOUT_MS)
        print("notified", await char.notified(TIMEOUT_MS))
        print("notified", await char.notified(TIMEOUT_MS))
        descs = []
        async for d in char.descriptors():
            descs.append(d.uuid)
        print("descriptors", descs)
        desc = await char.descriptor(DESC)
        print("desc read", await desc.read(TIMEOUT_MS))
        await desc.write(b"LEVEL")
        await char.subscribe(notify=False, indicate=True)
        print("indicated", await char.indicated(TIMEOUT_MS))
        for i in range(3):
            await capture.write(b"burst%d" % i, response=False)
        try:
            await capture.read(TIMEOUT_MS)
        except aioble.GattError as e:
            print("GattError", e._status, e)
        print("missing", await svc.characteristic(bluetooth.UUID(0x1234)))
    print("disconnected", conn.is_connected())


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
