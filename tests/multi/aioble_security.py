# aioble: pairing and bonding. pair() encrypts the link and updates encrypted /
# authenticated / bonded / key_size on both sides; the bond is stored in the JSON
# secrets file, so after a restart (stop(), load_secrets() again) the link is encrypted
# again from the stored keys without storing new ones.
# multitest-skip: micropython-btstack -- BTstack v1.28 never confirms Just Works, so pairing stops after the Pairing Response (docs/firmware.md; shown by tests/firmware/multi/btstack_just_works.py)
import os
import asyncio
import bluetooth
import aioble
import aioble.security

if not hasattr(bluetooth.BLE, "gap_pair"):
    print("SKIP")
    raise SystemExit

TIMEOUT_MS = 5000
SVC = bluetooth.UUID("7b7e0601-5d6a-4c2e-9a0e-3f1d2c3b4a59")
CTRL = bluetooth.UUID("7b7e0602-5d6a-4c2e-9a0e-3f1d2c3b4a59")


def state(conn):
    return conn.encrypted, conn.authenticated, conn.bonded, conn.key_size


def stored(path):
    # Bond records (types 1 and 2) in the file, as aioble wrote them.
    import json

    with open(path) as f:
        return len([e for e in json.load(f) if e[0] in (1, 2)])


async def peripheral(path):
    aioble.security.load_secrets(path)
    aioble.config(bond=True)  # the responder must allow bonding too
    svc = aioble.Service(SVC)
    ctrl = aioble.Characteristic(svc, CTRL, write=True, capture=True)
    aioble.register_services(svc)
    multitest.globals(PERIPHERAL=aioble.config("mac"))
    multitest.next()
    for round in (1, 2):
        conn = await aioble.advertise(20000, services=[SVC], timeout_ms=TIMEOUT_MS)
        print(round, "connected", state(conn))
        who, data = await ctrl.written(TIMEOUT_MS)  # the central writes once paired
        print(round, data, state(conn))
        await conn.disconnected(TIMEOUT_MS)
        print(round, "bonds stored", stored(path) > 0)
        if round == 1:
            aioble.stop()
            aioble.security.load_secrets(path)
            aioble.config(bond=True)
            aioble.register_services(svc)
            multitest.broadcast("restarted")


async def central(path):
    aioble.security.load_secrets(path)
    for round in (1, 2):
        async with aioble.scan(TIMEOUT_MS, 20000, 20000) as scanner:
            async for r in scanner:
                if SVC in r.services():
                    break
        conn = await r.device.connect(timeout_ms=TIMEOUT_MS)
        print(round, "connected", state(conn))
        before = stored(path) if round == 2 else 0
        await conn.pair(bond=True, timeout_ms=TIMEOUT_MS)
        print(round, "paired", state(conn))
        if round == 2:
            print(round, "no new bond stored", stored(path) == before)
        ctrl = await (await conn.service(SVC)).characteristic(CTRL)
        await ctrl.write(b"paired", response=True)
        await conn.disconnect()
        print(round, "bonds stored", stored(path) > 0)
        if round == 1:
            aioble.stop()
            aioble.security.load_secrets(path)
            multitest.wait("restarted")


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def run(task, path):
    remove(path)  # a file left by an interrupted run would hold old bonds
    try:
        asyncio.run(task(path))
    finally:
        aioble.stop()
        remove(path)


def unique(name):
    # Test runs of other users may share this directory.
    import random

    return "%s_%08x.json" % (name, random.getrandbits(32))


def instance0():
    run(peripheral, unique("aioble_security_0"))


def instance1():
    multitest.next()
    run(central, unique("aioble_security_1"))
