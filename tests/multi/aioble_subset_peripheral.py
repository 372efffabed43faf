# A peripheral-only aioble build (the files of frozen/aioble-peripheral and
# frozen/aioble-server, nothing else) serves a central that has all of aioble:
# the subset has no scan/client code and still advertises, serves reads and writes.
# On a real board this needs such a firmware; here instance0 assembles the subset
# itself with the freeze-manifest reader, so it runs on CPython boards only.
import sys
import asyncio

TIMEOUT_MS = 5000


def subset_aioble():
    try:
        import tempfile, shutil, os
        from bleboard.tools import manifest
    except ImportError:
        print("SKIP")
        raise SystemExit from None
    where = tempfile.mkdtemp()
    import atexit

    atexit.register(shutil.rmtree, where, True)
    for package in ("aioble-peripheral", "aioble-server"):
        for source, target, _ in manifest.read("../../frozen/" + package).files:
            os.makedirs(os.path.dirname(os.path.join(where, target)), exist_ok=True)
            shutil.copy(source, os.path.join(where, target))
    sys.path.insert(0, where)
    import aioble

    return aioble, sorted(os.listdir(os.path.join(where, "aioble")))


def instance0():
    aioble, files = subset_aioble()
    import bluetooth

    SVC = bluetooth.UUID("7b7e0701-5d6a-4c2e-9a0e-3f1d2c3b4a59")
    print("files", [f for f in files if f.endswith(".py")])
    print("has scan", hasattr(aioble, "scan"), "has client", hasattr(aioble, "ClientService"))

    async def main():
        svc = aioble.Service(SVC)
        char = aioble.Characteristic(svc, bluetooth.UUID(0x2A3D), read=True, write=True, initial=b"subset")
        aioble.register_services(svc)
        multitest.globals(PERIPHERAL=aioble.config("mac"))
        multitest.next()
        conn = await aioble.advertise(20000, services=[SVC], timeout_ms=TIMEOUT_MS)
        print("connected")
        await char.written(TIMEOUT_MS)
        print("written", char.read())
        await conn.disconnected(TIMEOUT_MS)
        print("disconnected")

    try:
        asyncio.run(main())
    finally:
        aioble.stop()


def instance1():
    import bluetooth
    import aioble

    SVC = bluetooth.UUID("7b7e0701-5d6a-4c2e-9a0e-3f1d2c3b4a59")
    multitest.next()

    async def main():
        conn = await aioble.Device(*PERIPHERAL).connect(timeout_ms=TIMEOUT_MS)
        char = await (await conn.service(SVC, TIMEOUT_MS)).characteristic(bluetooth.UUID(0x2A3D))
        print("read", await char.read(TIMEOUT_MS))
        await char.write(b"from full aioble", response=True)
        await conn.disconnect()
        print("disconnected")

    try:
        asyncio.run(main())
    finally:
        aioble.stop()
