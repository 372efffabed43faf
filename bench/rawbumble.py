"""The raw-Bumble baseline every benchmark compares against, written once.

Two Bumble hosts on one in-process LocalRadio in fast mode: the same air our own stack is
measured on, so a ratio compares the stacks and nothing else.
"""

import asyncio
import time

from bumble.core import UUID as BUUID
from bumble.device import Device, Peer
from bumble.gatt import Characteristic, Service
from bumble.hci import Address

from bleboard.radio.local import LocalRadio

SVC, CHR = 0xFE00, 0xFE01


async def devices(n=2, radio=None, host_class=None):
    """n powered-on Bumble devices on `radio` (a new fast LocalRadio by default); `host_class`
    replaces Bumble's Host (the floor measurement uses our port's QuietHost)."""
    radio = radio or LocalRadio(latency="fast")
    made = []
    for i in range(n):
        t = radio.attach()
        if host_class is None:
            d = Device.with_hci("raw%d" % i, Address.generate_static_address(), t.source, t.sink)
        else:
            d = Device(name="raw%d" % i, address=Address.generate_static_address(),
                       host=host_class(controller_source=t.source, controller_sink=t.sink))
        await d.power_on()
        made.append(d)
    return made


async def gatt_server(periph, properties, mtu):
    """One service SVC with one characteristic CHR of `properties` on `periph`."""
    char = Characteristic(BUUID.from_16_bits(CHR), properties,
                          Characteristic.READABLE | Characteristic.WRITEABLE, b"")
    periph.add_service(Service(BUUID.from_16_bits(SVC), [char]))
    periph.gatt_server.max_mtu = mtu
    return char


async def connect(periph, central):
    """Advertise on `periph`, connect from `central`: (central's connection, periph's)."""
    await periph.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
    got = asyncio.get_running_loop().create_future()
    periph.once("connection", lambda c: got.set_result(c))
    conn = await central.connect(periph.random_address)
    return conn, await got


async def discover(conn, mtu=None):
    """Exchange the MTU (if given) and find CHR: its client-side proxy."""
    peer = Peer(conn)
    if mtu:
        await peer.request_mtu(mtu)
    await peer.discover_services()
    (svc,) = [s for s in peer.services if s.uuid == BUUID.from_16_bits(SVC)]
    await svc.discover_characteristics()
    return svc.characteristics[0]


async def notify_rate(periph, pconn, char, conn, proxy, size, count, timeout=120):
    """KB/s of `count` notifications of `size` bytes, from first send to last receipt."""
    done = asyncio.get_running_loop().create_future()
    received = [0]

    def on_value(value):
        received[0] += 1
        if received[0] == count and not done.done():
            done.set_result(None)

    subscribers = conn.gatt_client.notification_subscribers.setdefault(proxy.handle, set())
    subscribers.clear()
    subscribers.add(on_value)
    payload = bytes(size)
    t0 = time.perf_counter()
    for _ in range(count):
        await periph.notify_subscriber(pconn, char, payload, force=True)
    await asyncio.wait_for(done, timeout)
    return count * size / (time.perf_counter() - t0) / 1000


async def notify_link(properties, mtu):
    """Everything a notify benchmark needs: (periph, pconn, char, conn, proxy)."""
    periph, central = await devices()
    char = await gatt_server(periph, properties, mtu)
    conn, pconn = await connect(periph, central)
    proxy = await discover(conn, mtu)
    return periph, pconn, char, conn, proxy
