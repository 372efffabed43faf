"""Benchmark of the virtual radio against Bumble's own LocalLink, measured in the same run.

For each air (Bumble's Controller+LocalLink, our LocalRadio "fast", LocalRadio
"board", and the shared `bleboard air` server in fast mode over a unix socket)
two Bumble hosts connect and measure:

* throughput: 1000-byte L2CAP PDUs on a fixed channel, central to peripheral;
* round trip: median time of a 20-byte ping answered by a 20-byte pong.

Prints each figure and the ratio against Bumble's LocalLink.  "board" is
meant to be slow (7.5 ms connection events); its round trip should be 1-2
events.  Never fails; run with `python bench/bench_radio.py`.
"""

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from bleboard.radio.local import LocalRadio
from bleboard.radio.transport import open_hci

CID = 0x0070
N_BULK = 1500
BULK_SIZE = 1000
N_PING = 60


async def bumble_pair():
    link = LocalLink()
    devices = []
    for i in range(2):
        controller = Controller(f"C{i}", link=link, public_address=f"F{i}:F{i}:F{i}:F{i}:F{i}:F{i}")
        devices.append(Device(address=Address(f"C0:00:00:00:00:0{i + 1}"), host=Host(controller, AsyncPipeSink(controller))))
    return devices


async def transports_pair(make_transport):
    devices = []
    for i in range(2):
        transport = await make_transport()
        devices.append(Device.with_hci(f"d{i}", Address(f"C0:00:00:00:00:0{i + 1}"), transport.source, transport.sink))
    return devices


async def measure(devices):
    peripheral, central = devices
    for device in devices:
        await device.power_on()
    await peripheral.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
    connection = await central.connect(peripheral.random_address)
    peer = connection  # central end; the peripheral answers on its own end
    loop = asyncio.get_running_loop()

    received = [0]
    finished = loop.create_future()

    def on_bulk(handle, pdu):
        if pdu[:1] == b"P":  # ping: answer at once
            peripheral.send_l2cap_pdu(handle, CID, b"Q" + pdu[1:])
            return
        received[0] += 1
        if received[0] == N_BULK and not finished.done():
            finished.set_result(time.perf_counter())

    peripheral.l2cap_channel_manager.register_fixed_channel(CID, on_bulk)
    pongs = asyncio.Queue()
    central.l2cap_channel_manager.register_fixed_channel(CID, lambda handle, pdu: pongs.put_nowait(time.perf_counter()))

    rtts = []
    for _ in range(N_PING):
        start = time.perf_counter()
        peer.send_l2cap_pdu(CID, b"P" + bytes(19))
        rtts.append(await asyncio.wait_for(pongs.get(), 10) - start)

    start = time.perf_counter()
    for _ in range(N_BULK):
        peer.send_l2cap_pdu(CID, b"B" + bytes(BULK_SIZE - 1))
    end = await asyncio.wait_for(finished, 120)
    throughput = N_BULK * BULK_SIZE / (end - start)
    return throughput, statistics.median(rtts)


def start_server(path):
    process = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "air", "--listen", "unix:" + path, "--latency", "fast"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while not os.path.exists(path):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("bleboard air did not start")
        time.sleep(0.02)
    return process


async def main():
    results = {}
    results["bumble LocalLink"] = await measure(await bumble_pair())
    fast = LocalRadio("fast")
    results["LocalRadio fast"] = await measure(await transports_pair(lambda: asyncio.sleep(0, fast.attach())))
    board = LocalRadio("board")
    results["LocalRadio board"] = await measure(await transports_pair(lambda: asyncio.sleep(0, board.attach())))
    directory = tempfile.mkdtemp(prefix="bbbench-", dir="/tmp")
    server = start_server(os.path.join(directory, "air.sock"))
    try:
        spec = "unix:" + os.path.join(directory, "air.sock")
        results["air server fast"] = await measure(await transports_pair(lambda: open_hci(spec)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(directory, ignore_errors=True)

    base_throughput, base_rtt = results["bumble LocalLink"]
    print(f"{'air':20} {'throughput kB/s':>16} {'ratio':>7} {'round trip ms':>14} {'ratio':>7}")
    for name, (throughput, rtt) in results.items():
        print(
            f"{name:20} {throughput / 1000:16.0f} {throughput / base_throughput:7.2f}"
            f" {rtt * 1000:14.2f} {rtt / base_rtt:7.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
