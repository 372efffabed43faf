# aioble: back-to-back writes are captured in order (the queue keeps the latest 10),
# a BufferedCharacteristic in append mode concatenates writes, and write(send_update=True)
# notifies a subscribed client.
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0201-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CAP = bluetooth.UUID("7b7e0202-5d6a-4c2e-9a0e-3f1d2c3b4a59")
BUF = bluetooth.UUID("7b7e0203-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CTRL = bluetooth.UUID("7b7e0204-5d6a-4c2e-9a0e-3f1d2c3b4a59")
STATUS = bluetooth.UUID("7b7e0205-5d6a-4c2e-9a0e-3f1d2c3b4a59")


async def peripheral():
    svc = aioble.Service(SVC)
    cap = aioble.Characteristic(svc, CAP, write=True, write_no_response=True, capture=True)
    buf = aioble.BufferedCharacteristic(svc, BUF, max_len=64, append=True, write_no_response=True)
    ctrl = aioble.Characteristic(svc, CTRL, write=True)
    status = aioble.Characteristic(svc, STATUS, read=True, notify=True)
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, services=[SVC], timeout_ms=TIMEOUT_MS)
    print("connected")
    # Wait for the control write, which the client sends after its bursts.
    await ctrl.written(TIMEOUT_MS)
    print("ctrl", ctrl.read())
    for _ in range(10):
        who, data = await cap.written(TIMEOUT_MS)
        print("captured", who is conn, data)
    try:
        await cap.written(200)
    except asyncio.TimeoutError:
        print("capture queue empty")
    print("buffer", buf.read())
    print("buffer after read", buf.read())
    status.write(b"done", send_update=True)
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")


async def central():
    async with aioble.scan(TIMEOUT_MS, 20000, 20000) as scanner:
        async for r in scanner:
            if SVC in r.services():
                break
    conn = await r.device.connect(timeout_ms=TIMEOUT_MS)
    print("connected")
    svc = await conn.service(SVC, TIMEOUT_MS)
    cap = await svc.characteristic(CAP)
    buf = await svc.characteristic(BUF)
    ctrl = await svc.characteristic(CTRL)
    status = await svc.characteristic(STATUS)
    await status.subscribe(notify=True)
    for i in range(15):
        await cap.write(b"burst%02d" % i, response=False)  # back to back, no waiting
    for i in range(4):
        await buf.write(b"chunk%d" % i)
    await ctrl.write(b"go")
    print("status", await status.notified(TIMEOUT_MS))
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
