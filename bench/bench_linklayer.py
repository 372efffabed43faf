"""Benchmark: L2CAP CoC bulk throughput on the board-like virtual link against the link-layer model.

Two in-process boards (Bumble hosts over our virtual controllers, board mode)
connect at a fixed interval, switch PHY and data length with the real HCI
commands (LE Set PHY, LE Set Data Length), and the central streams SDUs to the
peripheral over an LE credit-based channel.  The measured rate (SDU octets
between the first and the last SDU received, wall clock) is printed next to
what the model says a board can carry: the same SDUs cut into K-frames, HCI
fragments and LL PDUs, packed into connection events with timing.plan_event.
A row is "ok" when the two agree within +-10%.  The best of ROUNDS runs is kept, as the
machine may be busy (the 27-octet rows at 7.5 ms pass ~1500 HCI packets a second through
the hosts and suffer first).  Never fails.  `python bench/bench_linklayer.py [SECONDS_PER_ROW [ROUNDS]]`.
"""

import asyncio
import sys
import time

from bumble import hci, l2cap
from bumble.device import AdvertisingType, ConnectionParametersPreferences, Device

from bleboard.radio import timing
from bleboard.radio.local import LocalRadio

PSM = 0x0080
SDU = 2048
MPS = 247  # one K-frame fills one 251-octet HCI fragment (and one LL PDU with DLE)
HCI_FRAGMENT = 251  # the virtual controller's LE ACL buffer size
SECONDS = 2.5
ROUNDS = 2
CONFIGS = [
    (phy, octets, interval_ms)
    for phy in (timing.LE_1M, timing.LE_2M)
    for octets in (27, 251)
    for interval_ms in (7.5, 30.0, 50.0)
]
PHY_NAME = {timing.LE_1M: "1M", timing.LE_2M: "2M"}


def ll_payloads_of_sdu(sdu, mps, octets):
    """LL PDU payload sizes one SDU becomes: K-frames (2-octet SDU length first), HCI fragments, LL PDUs."""
    sizes = []
    data = sdu + 2
    while data > 0:
        frame = min(mps, data) + 4  # basic L2CAP header
        data -= frame - 4
        while frame > 0:
            fragment = min(HCI_FRAGMENT, frame)
            frame -= fragment
            while fragment > 0:
                sizes.append(min(octets, fragment))
                fragment -= sizes[-1]
    return sizes


def theoretical(phy, octets, interval_ms, sdus=200):
    """SDU octets per second the model gives a never-empty one-way stream of `sdus` SDUs."""
    queue = ll_payloads_of_sdu(SDU, MPS, octets) * sdus
    interval = round(interval_ms / 1.25)
    event_us = timing.event_length_us(interval)
    events = position = 0
    while position < len(queue):
        sent, _, _ = timing.plan_event(queue[position : position + 400], [], event_us, phy, phy)
        position += sent
        events += 1
    return sdus * SDU / (events * interval * timing.INTERVAL_UNIT_US / 1e6)


async def measure(phy, octets, interval_ms, seconds, expected):
    """Measured SDU octets per second for one configuration."""
    radio = LocalRadio("board")
    devices = []
    for name in ("peripheral", "central"):
        transport = radio.attach(name)
        device = Device.with_hci(name, hci.Address.generate_static_address(), transport.source, transport.sink)
        await device.power_on()
        devices.append(device)
    peripheral, central = devices
    received = {"octets": 0, "first": None, "last": None, "count": 0}
    count = max(20, int(expected * seconds / SDU))
    done = asyncio.get_running_loop().create_future()

    def on_channel(channel):
        def sink(sdu):
            now = time.perf_counter()
            received["count"] += 1
            if received["first"] is None:
                received["first"] = now
            else:
                received["octets"] += len(sdu)
                received["last"] = now
            if received["count"] == count and not done.done():
                done.set_result(None)

        channel.sink = sink

    spec = l2cap.LeCreditBasedChannelSpec(psm=PSM, mtu=SDU, mps=MPS)
    peripheral.create_l2cap_server(spec, handler=on_channel)
    await peripheral.start_advertising(
        advertising_type=AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE,
        advertising_interval_min=20, advertising_interval_max=20,
    )
    prefs = ConnectionParametersPreferences(
        connection_interval_min=interval_ms, connection_interval_max=interval_ms, supervision_timeout=5000
    )
    connection = await central.connect(
        peripheral.random_address, connection_parameters_preferences={hci.Phy.LE_1M: prefs}
    )
    if phy != timing.LE_1M:
        updated = asyncio.get_running_loop().create_future()
        connection.on("connection_phy_update", lambda *_: updated.done() or updated.set_result(None))
        await connection.set_phy(tx_phys=[hci.Phy(phy)], rx_phys=[hci.Phy(phy)])
        await asyncio.wait_for(updated, 10)
    if octets != 27:
        changed = asyncio.get_running_loop().create_future()
        connection.on("connection_data_length_change", lambda: changed.done() or changed.set_result(None))
        await connection.set_data_length(octets, 2120)
        await asyncio.wait_for(changed, 10)
    channel = await central.create_l2cap_channel(connection, spec)
    chunk = bytes(SDU)
    for _ in range(count):
        channel.write(chunk)
        await channel.drain()
    await asyncio.wait_for(done, 60 + 4 * seconds)
    rate = received["octets"] / (received["last"] - received["first"])
    await connection.disconnect()
    radio.close()
    return rate


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    print("L2CAP CoC bulk on the board-like virtual link: measured vs link-layer model "
          "(SDU %d, MPS %d, about %.1f s per run, best of %d)" % (SDU, MPS, seconds, rounds))
    print("%-4s %6s %9s %14s %14s %7s %s" % ("PHY", "octets", "interval", "model (kB/s)", "measured", "ratio", ""))
    outside = 0
    for phy, octets, interval_ms in CONFIGS:
        model = theoretical(phy, octets, interval_ms)
        measured = max(asyncio.run(measure(phy, octets, interval_ms, seconds, model)) for _ in range(rounds))
        ratio = measured / model
        verdict = "ok" if abs(ratio - 1) <= 0.10 else "OUTSIDE +-10%"
        outside += verdict != "ok"
        print("%-4s %6d %7.1fms %14.1f %14.1f %6.2fx %s" % (
            PHY_NAME[phy], octets, interval_ms, model / 1000, measured / 1000, ratio, verdict))
        sys.stdout.flush()
    print("%d of %d configurations within +-10%%" % (len(CONFIGS) - outside, len(CONFIGS)))


if __name__ == "__main__":
    main()
