"""A raw Bumble peer on the virtual radio that sends PDUs by hand and records the answers.

Shared by the test_hostile_*.py files: the board under test is an ordinary bleboard board;
the peer is plain Bumble (no bleboard corrections), whose fixed-channel handlers are
swapped for recorders when a test wants to see the exact bytes a board sends.
"""

import asyncio

from bumble.device import Device
from bumble.hci import Address, OwnAddressType
from bumble.pairing import PairingConfig, PairingDelegate

from bleboard.port import loop as radio_loop

ATT_CID = 0x0004
SMP_CID = 0x0006
LE_SIGNALLING_CID = 0x0005
REPLY_TIMEOUT = 5.0


def run(coro, timeout=15):
    """Run a coroutine on the radio loop (where every Bumble object of these tests lives)."""
    return radio_loop.get().run(coro, timeout)


class RawPeer:
    def __init__(self, radio):
        self.radio = radio
        self.device = None
        self.transport = None
        self.connection = None
        self.recorded = {}  # cid -> asyncio.Queue of PDUs received there
        self.saved = {}  # cid -> Bumble's own handler, while recording

    async def open(self, bonding=False, role="central"):
        self.transport = self.radio.attach()
        self.device = Device.with_hci("raw-peer", Address.generate_static_address(),
                                      self.transport.source, self.transport.sink)
        await self.device.power_on()
        self.device.pairing_config_factory = lambda c: PairingConfig(
            sc=True, mitm=False, bonding=bonding, delegate=PairingDelegate())
        return self

    async def connect(self, mac):
        addr_type, addr = mac
        self.connection = await self.device.connect(
            Address(bytes(reversed(addr)), addr_type), own_address_type=OwnAddressType.PUBLIC)
        return self.connection

    async def advertise(self):
        """Be a peripheral: advertise; `incoming()` then gives the board's connection."""
        loop = asyncio.get_running_loop()
        self.accepted = loop.create_future()
        self.device.on("connection", lambda c: self.accepted.done() or self.accepted.set_result(c))
        await self.device.start_advertising(auto_restart=False, advertising_interval_min=20, advertising_interval_max=20)
        address = self.device.random_address
        return 1, bytes(reversed(bytes(address)))

    async def incoming(self, timeout=REPLY_TIMEOUT):
        self.connection = await asyncio.wait_for(self.accepted, timeout)
        return self.connection

    async def close(self):
        if self.transport is not None:
            await self.transport.close()

    # ---- raw PDUs on fixed channels ---------------------------------------------
    def record(self, cid):
        """Keep every PDU the board sends on `cid` (instead of handling it)."""
        fixed = self.device.l2cap_channel_manager.fixed_channels
        self.saved.setdefault(cid, fixed[cid])
        queue = self.recorded[cid] = asyncio.Queue()
        fixed[cid] = lambda handle, pdu: queue.put_nowait(bytes(pdu))
        return queue

    def restore(self, cid):
        """Let Bumble handle `cid` again (a legitimate peer from now on)."""
        self.device.l2cap_channel_manager.fixed_channels[cid] = self.saved.pop(cid)

    def watch_signalling(self):
        """Keep a copy of every LE signalling frame the board sends (Bumble still handles them)."""
        manager = self.device.l2cap_channel_manager
        queue = self.recorded[LE_SIGNALLING_CID] = asyncio.Queue()
        handle_frame = manager.on_control_frame

        def on_control_frame(connection, cid, frame):
            queue.put_nowait(bytes(frame))
            handle_frame(connection, cid, frame)

        manager.on_control_frame = on_control_frame
        return queue

    def send(self, cid, pdu):
        self.device.send_l2cap_pdu(self.connection.handle, cid, bytes(pdu))

    async def reply(self, cid, timeout=REPLY_TIMEOUT):
        return await asyncio.wait_for(self.recorded[cid].get(), timeout)

    async def exchange(self, cid, pdu):
        self.send(cid, pdu)
        return await self.reply(cid)

    async def silent(self, cid, wait=0.2):
        """Nothing more arrives on `cid` within `wait` (after a PDU that must not be answered,
        a second, answered PDU is the real check: this only keeps the queue honest)."""
        try:
            pdu = await asyncio.wait_for(self.recorded[cid].get(), wait)
        except asyncio.TimeoutError:
            return True
        raise AssertionError("unexpected PDU on CID %d: %s" % (cid, pdu.hex()))
