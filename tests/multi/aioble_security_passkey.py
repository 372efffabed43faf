# aioble: pairing with MITM protection. Both sides can display a number and answer
# yes/no (io=1), so LE Secure Connections uses numeric comparison: each side's
# aioble.security.on_passkey gets action 4 and answers. Accepted: the link is
# authenticated. Rejected by the central: pair() raises OSError and the link stays
# unencrypted.
# multitest-skip: micropython@1 -- NimBLE v1.28 as central never raises _IRQ_PASSKEY_ACTION (docs/firmware.md; shown by tests/firmware/multi/nimble_central_passkey.py)
import asyncio
import bluetooth
import aioble
import aioble.security

if not hasattr(bluetooth.BLE, "gap_pair"):
    print("SKIP")
    raise SystemExit

TIMEOUT_MS = 5000
IO_DISPLAY_YESNO = 1
ACTION_NUMERIC_COMPARISON = 4
SVC = bluetooth.UUID("7b7e0801-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CTRL = bluetooth.UUID("7b7e0802-5d6a-4c2e-9a0e-3f1d2c3b4a59")

answer = [1]


def on_passkey(connection, action, passkey):
    print("passkey action", action, 0 <= passkey <= 999999, connection is not None)
    return answer[0]


def state(conn):
    return conn.encrypted, conn.authenticated, conn.bonded


async def peripheral():
    aioble.security.on_passkey = on_passkey
    aioble.config(io=IO_DISPLAY_YESNO, mitm=True, le_secure=True)
    svc = aioble.Service(SVC)
    ctrl = aioble.Characteristic(svc, CTRL, write=True, capture=True)
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    for round in (1, 2):
        conn = await aioble.advertise(20000, timeout_ms=TIMEOUT_MS)
        who, data = await ctrl.written(TIMEOUT_MS)
        print(round, data, state(conn))
        await conn.disconnected(TIMEOUT_MS)


async def central():
    aioble.security.on_passkey = on_passkey
    for round in (1, 2):
        answer[0] = 1 if round == 1 else 0
        conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
        try:
            await conn.pair(bond=False, mitm=True, io=IO_DISPLAY_YESNO, timeout_ms=TIMEOUT_MS)
            print(round, "paired", state(conn))
        except OSError as e:
            print(round, "pairing failed", e.args[0], state(conn))
        ctrl = await (await conn.service(SVC)).characteristic(CTRL)
        await ctrl.write(b"round %d" % round, response=True)
        await conn.disconnect()


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
