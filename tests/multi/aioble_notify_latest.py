# aioble keeps only the latest unread notification (and indication) of a characteristic, as
# upstream aioble does: after a burst, notified() returns the newest value and there is no
# stale one behind it. A deeper queue is opt-in (queue_depth). Ordering is awaited: ATT
# delivers the notifications before the answer to a read sent after them.
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0401-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CHAR = bluetooth.UUID("7b7e0402-5d6a-4c2e-9a0e-3f1d2c3b4a59")


async def peripheral():
    svc = aioble.Service(SVC)
    char = aioble.Characteristic(svc, CHAR, read=True, write=True, notify=True, indicate=True, initial=b"v")
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    for burst in ((b"n1", b"n2", b"n3"), (b"m1", b"m2", b"m3", b"m4")):
        await char.written(TIMEOUT_MS)  # the client is subscribed and ready
        for value in burst:
            char.notify(conn, value)
        multitest.broadcast("burst sent")
    await char.written(TIMEOUT_MS)
    for value in (b"i1", b"i2"):
        await char.indicate(conn, value, timeout_ms=TIMEOUT_MS)
    multitest.broadcast("indications sent")
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")


async def stale(wait):
    try:
        return await wait(300)
    except asyncio.TimeoutError:
        return None


async def central():
    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    char = await (await conn.service(SVC, TIMEOUT_MS)).characteristic(CHAR, TIMEOUT_MS)
    await char.subscribe(notify=True)
    await char.write(b"ready", response=True)
    multitest.wait("burst sent")
    await char.read(TIMEOUT_MS)
    print("latest", await char.notified(TIMEOUT_MS), "then", await stale(char.notified))
    char.queue_depth = 3
    await char.write(b"ready", response=True)
    multitest.wait("burst sent")
    await char.read(TIMEOUT_MS)
    queued = []
    for _ in range(3):  # not a comprehension: MicroPython has no await inside one
        queued.append(await char.notified(TIMEOUT_MS))
    print("queued", queued, "then", await stale(char.notified))
    await char.subscribe(notify=False, indicate=True)
    char.queue_depth = 1
    await char.write(b"ready", response=True)
    multitest.wait("indications sent")
    await char.read(TIMEOUT_MS)
    print("indicated", await char.indicated(TIMEOUT_MS), "then", await stale(char.indicated))
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
