"""Shared pieces of the radio tests: real Bumble hosts over our controllers, and waits with timeouts."""

import asyncio
import functools
import struct

from bumble import hci
from bumble.device import Device

TIMEOUT = 10.0  # seconds any single test may run on the loop


def run(coro_fn):
    """Decorator: run an async test on a fresh loop, failing (not hanging) after TIMEOUT."""

    @functools.wraps(coro_fn)
    def wrapper(*args, **kwargs):
        async def bounded():
            return await asyncio.wait_for(coro_fn(*args, **kwargs), TIMEOUT)

        return asyncio.run(bounded())

    return wrapper


_counter = [0]


async def host(radio=None, transport=None, name=None):
    """A powered-on Bumble Device over a transport (by default a new controller on `radio`)."""
    _counter[0] += 1
    n = _counter[0]
    if transport is None:
        transport = radio.attach(name)
    address = hci.Address(f"C0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}")
    device = Device.with_hci(name or f"host{n}", address, transport.source, transport.sink)
    await device.power_on()
    device.transport = transport
    return device


class Reports:
    """Raw advertising reports (legacy or extended) a host receives, awaitable."""

    def __init__(self, device):
        self.items = []
        self._changed = asyncio.Event()
        device.host.on("advertising_report", self._on_report)

    def _on_report(self, report):
        self.items.append(report)
        self._changed.set()

    async def wait_for(self, predicate, count=1):
        """Wait until `count` reports satisfy `predicate`; return them."""
        while True:
            matching = [r for r in self.items if predicate(r)]
            if len(matching) >= count:
                return matching
            self._changed.clear()
            await self._changed.wait()

    def clear(self):
        self.items.clear()


def from_address(address):
    return lambda report: report.address.address_bytes == address.address_bytes


async def wait_event(emitter, event, predicate=lambda *args: True):
    """Wait for one emission of `event` whose arguments satisfy `predicate`; return the arguments."""
    future = asyncio.get_running_loop().create_future()

    def handler(*args):
        if not future.done() and predicate(*args):
            future.set_result(args)

    emitter.on(event, handler)
    try:
        return await future
    finally:
        emitter.remove_listener(event, handler)


async def advertise_legacy(device, advertising_type, data=b"", scan_response=b"", target=None, interval_ms=20):
    """Start legacy-PDU advertising of any type (works with and without extended advertising)."""
    await device.start_advertising(
        advertising_type=advertising_type,
        target=target,
        advertising_data=data,
        scan_response_data=scan_response,
        advertising_interval_min=interval_ms,
        advertising_interval_max=interval_ms,
    )


def read_btsnoop(path):
    """(version, datalink, [(flags, packet)]) of a btsnoop file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"btsnoop\0"
    version, datalink = struct.unpack(">II", data[8:16])
    records, offset = [], 16
    while offset < len(data):
        original, included, flags, drops, timestamp = struct.unpack(">IIIIQ", data[offset : offset + 24])
        offset += 24
        records.append((flags, data[offset : offset + included]))
        assert original == included
        offset += included
    return version, datalink, records
