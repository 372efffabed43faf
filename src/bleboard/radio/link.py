"""The air shared by the controllers of one radio, with connection-event timing.

On a board, a byte written to a connection leaves at the next connection
event and the answer comes back one event later at the earliest, so a GATT
round trip costs one to two connection intervals.  Bumble's LocalLink hands
data over on the next loop iteration, which lets programs rely on orderings
and speeds no board gives.  `AirLink` keeps, per connection and direction, an
ordered queue of LL PDUs (ACL fragments and LL control PDUs alike) and
delivers it at the connection's next event tick:

* ``"board"`` (default): an event every 7.5 ms, the shortest connection
  interval the Core spec allows (Vol 6, Part B, 4.5.1), so round trips look
  like those of a board on its fastest setting;
* ``"fast"``: on the next loop iteration, no timer, for throughput;
* a number: the event period in milliseconds (0 means "fast").

Ticks are anchored at the moment the connection was made, both directions
share them, the central's PDUs go first in each event (as on the air), any
number of PDUs go in one event, and PDUs queued while an event is being
delivered wait for the next one.  No timer runs while a connection is idle.
Advertising PDUs are never delayed: they reach every other controller on the
next loop iteration.

The event period is the air's, not the connection interval the hosts
negotiated (which the connection complete events report faithfully): a
connection asked at 50 ms still exchanges every 7.5 ms, so tests keep their
speed while their orderings stay those of a board.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
from typing import TYPE_CHECKING

from bumble import hci, ll
from bumble.link import LocalLink

from bleboard.radio.pdus import AdvertisingPdu, DataPdu

if TYPE_CHECKING:
    from bleboard.radio.controller import AirConnection, VirtualController

logger = logging.getLogger(__name__)

BOARD_EVENT_MS = 7.5  # minimum BLE connection interval (6 x 1.25 ms)

# Public addresses handed out on one radio: a fixed prefix plus a counter that
# never goes back, so a board that left is never confused with a newcomer.
PUBLIC_ADDRESS_PREFIX = "00:B1:EB"


def parse_latency(latency) -> float | None:
    """Event period in seconds for a latency setting, or None for "fast".

    Accepts "board", "fast", or a number of milliseconds (int, float or a
    numeric string) >= 0.
    """
    if isinstance(latency, str):
        name = latency.strip().lower()
        if name == "board":
            return BOARD_EVENT_MS / 1000.0
        if name == "fast":
            return None
        try:
            latency = float(name)
        except ValueError:
            raise ValueError(
                f"latency must be 'board', 'fast' or a number of milliseconds, not {latency!r}"
            ) from None
    if isinstance(latency, bool) or not isinstance(latency, (int, float)):
        raise TypeError(f"latency must be 'board', 'fast' or milliseconds, not {type(latency).__name__}")
    if not math.isfinite(latency) or latency < 0:
        raise ValueError(f"latency must be >= 0 ms, not {latency!r}")
    return latency / 1000.0 if latency > 0 else None


class DataChannel:
    """The data channel of one connection: two ordered queues, flushed at connection events."""

    CENTRAL, PERIPHERAL = 0, 1

    def __init__(self, link: AirLink, central: AirConnection, peripheral: AirConnection):
        self._link = link
        self._ends = (central, peripheral)
        self._queues: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())
        self._loop = asyncio.get_running_loop()
        self._anchor = self._loop.time()
        self._timer: asyncio.Handle | None = None
        self.open = True
        self.events = 0  # connection events that carried at least one PDU
        central.attach_channel(self, self.CENTRAL)
        peripheral.attach_channel(self, self.PERIPHERAL)

    def peer_of(self, connection: AirConnection) -> AirConnection:
        return self._ends[1 - connection.side]

    def send(self, sender: AirConnection, pdu: DataPdu | ll.ControlPdu) -> bool:
        """Queue a PDU from one end; False when the channel is already closed."""
        if not self.open:
            return False
        self._queues[sender.side].append(pdu)
        self._schedule()
        return True

    def close(self) -> None:
        """Stop all traffic: queued PDUs are lost, as when the link drops."""
        self.open = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for queue in self._queues:
            queue.clear()

    def _schedule(self) -> None:
        if self._timer is not None or not self.open:
            return
        period = self._link.period
        if period is None:
            self._timer = self._loop.call_soon(self._event)
            return
        now = self._loop.time()
        events_passed = math.floor((now - self._anchor) / period) + 1
        self._timer = self._loop.call_at(self._anchor + events_passed * period, self._event)

    def _event(self) -> None:
        """One connection event: deliver what was queued before it, central first."""
        self._timer = None
        counts = [len(queue) for queue in self._queues]
        self.events += 1
        for side in (self.CENTRAL, self.PERIPHERAL):
            sender, receiver = self._ends[side], self._ends[1 - side]
            acknowledged = 0
            for _ in range(counts[side]):
                if not self.open:
                    return
                pdu = self._queues[side].popleft()
                receiver.controller.on_air_pdu(receiver, pdu)
                if isinstance(pdu, DataPdu):
                    acknowledged += 1
                elif isinstance(pdu, ll.TerminateInd):
                    # The peer has acknowledged LL_TERMINATE_IND: the link is gone for both.
                    self.close()
                    sender.controller.on_terminate_acknowledged(sender)
                    return
            if acknowledged and self.open:
                sender.controller.on_data_acknowledged(sender, acknowledged)
        if any(self._queues):
            self._schedule()


class AirLink(LocalLink):
    """The air of one radio: which controllers hear each other, and connection timing."""

    def __init__(self, latency="board"):
        super().__init__()
        self.period = parse_latency(latency)
        self.latency = latency
        # Insertion-ordered, so every scanner hears advertisers in a stable order.
        self.controllers = {}  # type: ignore[assignment]
        self._address_counter = 0
        self._board_addresses: dict = {}

    def allocate_public_address(self, board=None) -> hci.Address:
        """A public address for a new controller.

        A board keeps its address when it comes back (a board's BD_ADDR does
        not change when its program restarts BLE): `board` identifies it (a
        process, a name), and its previous address is reused unless another
        controller on the air has it now.  Otherwise the address is one no
        controller of this radio has had before.
        """
        if board is not None:
            previous = self._board_addresses.get(board)
            if previous is not None and all(c.public_address != previous for c in self.controllers):
                return previous
        self._address_counter += 1
        n = self._address_counter
        suffix = ":".join(f"{(n >> shift) & 0xFF:02X}" for shift in (16, 8, 0))
        address = hci.Address(f"{PUBLIC_ADDRESS_PREFIX}:{suffix}", hci.Address.PUBLIC_DEVICE_ADDRESS)
        if board is not None:
            self._board_addresses.setdefault(board, address)  # a board's first address is its own
        return address

    def add_controller(self, controller) -> None:
        self.controllers[controller] = None

    def remove_controller(self, controller) -> None:
        """Take a controller off the air; its peers see their connections time out."""
        if controller not in self.controllers:
            return
        del self.controllers[controller]
        on_removed = getattr(controller, "on_removed_from_air", None)
        if on_removed is not None:
            on_removed()

    def broadcast(self, sender: VirtualController, pdu: AdvertisingPdu) -> None:
        """Send an advertising PDU to every other controller, on the next loop iteration."""
        loop = asyncio.get_running_loop()
        for controller in list(self.controllers):
            if controller is not sender:
                loop.call_soon(_deliver_advertising, self, controller, pdu)

    def open_channel(self, central: AirConnection, peripheral: AirConnection) -> DataChannel:
        return DataChannel(self, central, peripheral)

    # Bumble's own advertising path is not used by our controllers.
    def send_advertising_pdu(self, sender_controller, packet) -> None:
        logger.debug("ignoring bumble advertising PDU %s", packet)


def _deliver_advertising(link: AirLink, controller, pdu: AdvertisingPdu) -> None:
    if controller in link.controllers:
        controller.on_air_advertising(pdu)
