# aioble: GATT in both directions over one connection. The central is also a GATT
# server and the peripheral also a client: the peripheral subscribes to the central's
# characteristic and gets notifications (send_update and direct) and an indication,
# while the central reads and gets notified by the peripheral's own server.
# multitest-skip: micropython@1 -- NimBLE v1.28 as central never raises _IRQ_GATTS_INDICATE_DONE (docs/firmware.md; shown by tests/firmware/multi/nimble_central_indicate_done.py)
import asyncio
import bluetooth
import aioble

TIMEOUT_MS = 5000
P_SVC = bluetooth.UUID("7b7e0301-5d6a-4c2e-9a0e-3f1d2c3b4a59")
P_CHAR = bluetooth.UUID("7b7e0302-5d6a-4c2e-9a0e-3f1d2c3b4a59")
C_SVC = bluetooth.UUID("7b7e0311-5d6a-4c2e-9a0e-3f1d2c3b4a59")
C_CHAR = bluetooth.UUID("7b7e0312-5d6a-4c2e-9a0e-3f1d2c3b4a59")
C_CTRL = bluetooth.UUID("7b7e0313-5d6a-4c2e-9a0e-3f1d2c3b4a59")


async def peripheral():
    svc = aioble.Service(P_SVC)
    mine = aioble.Characteristic(svc, P_CHAR, read=True, notify=True, initial=b"from-peripheral")
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
    print("connected")
    # Client of the central's server.
    csvc = await conn.service(C_SVC, TIMEOUT_MS)
    theirs = await csvc.characteristic(C_CHAR)
    ctrl = await csvc.characteristic(C_CTRL)
    print("central's characteristic", theirs.properties)
    await theirs.subscribe(notify=True, indicate=True)
    await ctrl.write(b"subscribed", response=True)
    print("notified", await theirs.notified(TIMEOUT_MS))
    print("indicated", await theirs.indicated(TIMEOUT_MS))
    print("notified", await theirs.notified(TIMEOUT_MS))
    await theirs.subscribe(notify=False, indicate=False)
    await ctrl.write(b"unsubscribed", response=True)
    # Server towards the central, once it has discovered our characteristic.
    multitest.wait("discovered")
    mine.notify(conn, b"peripheral-note")
    await conn.disconnected(TIMEOUT_MS)
    print("disconnected")


async def central():
    svc = aioble.Service(C_SVC)
    mine = aioble.Characteristic(svc, C_CHAR, read=True, notify=True, indicate=True)
    ctrl = aioble.Characteristic(svc, C_CTRL, write=True, capture=True)
    aioble.register_services(svc)
    conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
    print("connected")
    who, data = await ctrl.written(TIMEOUT_MS)
    print("ctrl", who is conn, data)
    mine.write(b"update", send_update=True)  # to every subscriber: notify preferred
    await mine.indicate(conn, b"indication", timeout_ms=TIMEOUT_MS)
    print("indication confirmed")
    mine.notify(conn, b"direct")
    who, data = await ctrl.written(TIMEOUT_MS)
    print("ctrl", data)
    mine.write(b"nobody", send_update=True)  # unsubscribed now: nothing is sent
    # Client of the peripheral's server.
    psvc = await conn.service(P_SVC, TIMEOUT_MS)
    theirs = await psvc.characteristic(P_CHAR)
    multitest.broadcast("discovered")
    print("read", await theirs.read(TIMEOUT_MS))
    print("notified", await theirs.notified(TIMEOUT_MS))
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
