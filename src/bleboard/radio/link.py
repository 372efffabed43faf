"""The air shared by the controllers of one radio, with link-layer timing.

On a board, a byte written to a connection leaves at the next connection
event and the answer comes back one event later at the earliest, so a GATT
round trip costs one to two connection intervals, and how much data moves
per event depends on the PHY and the data length.  Bumble's LocalLink hands
data over on the next loop iteration, which lets programs rely on orderings
and speeds no board gives.  `AirLink` keeps, per connection and direction,
ordered queues of LL PDUs (LL control PDUs ahead of data, as a link layer
sends them) and delivers them at connection events:

* ``"board"`` (default): the link-layer timing model.  Events come every
  connection interval the controllers agreed on (from LE Create Connection,
  changed by a connection update at its instant); each event carries what
  fits in it (timing.py: PDU air time on the PHY in use, T_IFS, the event
  length), host ACL fragments are split into LL PDUs of the negotiated data
  length, a peripheral with nothing to send may skip events up to its
  latency, and a link whose peer vanished ends after the supervision timeout;
* ``"fast"``: on the next loop iteration, no timer, no splitting, for throughput;
* a number: an event every that many milliseconds whatever the interval,
  with no limit on what one event carries (0 means "fast").

Event times are computed, never measured: event k of a connection is at
anchor + k x interval, so ticks are anchored where the connection (or its
last update) began; the central's PDUs go first in each event; PDUs queued
while an event is being delivered wait for the next one.  No timer runs
while a connection is idle.  Advertising PDUs are never delayed: they reach
every other controller on the next loop iteration.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
from typing import TYPE_CHECKING

from bumble import hci, ll
from bumble.link import LocalLink

from bleboard.radio import timing
from bleboard.radio.pdus import AdvertisingPdu, DataPdu

if TYPE_CHECKING:
    from bleboard.radio.controller import AirConnection, VirtualController

logger = logging.getLogger(__name__)

BOARD = "board"

# Public addresses handed out on one radio: a fixed prefix plus a counter that
# never goes back, so a board that left is never confused with a newcomer.
PUBLIC_ADDRESS_PREFIX = "00:B1:EB"

# CtrData lengths of the LL control PDUs this air carries (Vol 6, Part B, 2.4.2);
# the payload on the air is one opcode octet more.
_CONTROL_DATA_OCTETS = {
    0x00: 11, 0x02: 1, 0x03: 22, 0x04: 12, 0x05: 0, 0x06: 0, 0x08: 8, 0x09: 8, 0x0E: 8,
    0x0F: 23, 0x11: 2, 0x14: 8, 0x15: 8, 0x16: 2, 0x17: 2, 0x18: 4,
}


def parse_latency(latency) -> float | str | None:
    """The event timing of a latency setting: BOARD, None for "fast", or a fixed period in seconds.

    Accepts "board", "fast", or a number of milliseconds (int, float or a
    numeric string) >= 0.
    """
    if isinstance(latency, str):
        name = latency.strip().lower()
        if name == "board":
            return BOARD
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


def pdu_payload_octets(pdu) -> int:
    """Payload octets of an LL PDU on the air: data, or opcode plus CtrData."""
    if isinstance(pdu, DataPdu):
        return len(pdu.payload)
    return 1 + _CONTROL_DATA_OCTETS.get(int(pdu.opcode), 8)


EventRecord = collections.namedtuple("EventRecord", "counter time interval central_sent peripheral_sent")
EventRecord.__doc__ = """One connection event that moved PDUs.

Its counter, computed loop time, interval in force, and PDUs per side."""


class ConnectionTiming:
    """The timing parameters of one connection, in HCI units (as LE Connection Complete reports them)."""

    __slots__ = ("interval", "latency", "timeout", "max_ce_length")

    def __init__(self, interval: int, latency: int, timeout: int, max_ce_length: int = 0):
        self.interval, self.latency, self.timeout, self.max_ce_length = interval, latency, timeout, max_ce_length

    def __repr__(self) -> str:
        return (f"ConnectionTiming(interval={self.interval}, latency={self.latency}, "
                f"timeout={self.timeout}, max_ce_length={self.max_ce_length})")


class DataChannel:
    """The data channel of one connection: per side a control and a data queue, flushed at connection events."""

    CENTRAL, PERIPHERAL = 0, 1

    def __init__(self, link: AirLink, central: AirConnection, peripheral: AirConnection,
                 parameters: ConnectionTiming | None = None):
        self._link = link
        self._ends = (central, peripheral)
        self._control: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())
        # Data entries are (pdu, completes): `completes` is True on the last LL PDU of a host ACL packet.
        self._data: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())
        self._loop = asyncio.get_running_loop()
        self.parameters = parameters or ConnectionTiming(6, 0, 72)
        self.phy = [timing.LE_1M, timing.LE_1M]  # transmit PHY of each side
        self.coding = timing.CODED_S8
        self.encrypted = False
        self.max_tx_octets = [timing.MIN_OCTETS, timing.MIN_OCTETS]  # connEffectiveMaxTxOctets per side
        # Event k is at anchor_time + (k - anchor_counter) x period.
        self._anchor_time = self._loop.time()
        self._anchor_counter = 0
        self._last_counter = -1  # the last event that ran
        self._active_counter = -1  # the last event that carried data (the peripheral listens at the next)
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._timer_counter: int | None = None
        self._instants: list = []  # [(instant, callback)] waiting for their connection event
        self._instant_timer: asyncio.TimerHandle | None = None
        self._supervision: asyncio.TimerHandle | None = None
        self.open = True
        self.events = 0  # connection events that carried at least one PDU
        self.history: collections.deque = collections.deque(maxlen=1024)  # EventRecord of recent events with data
        central.attach_channel(self, self.CENTRAL)
        peripheral.attach_channel(self, self.PERIPHERAL)

    # ---------------------------------------------------------------- who and when
    def peer_of(self, connection: AirConnection) -> AirConnection:
        return self._ends[1 - connection.side]

    @property
    def ends(self) -> tuple[AirConnection, AirConnection]:
        """(central, peripheral)."""
        return self._ends

    @property
    def modelled(self) -> bool:
        """True when the link-layer timing model applies (board mode)."""
        return self._link.period == BOARD

    def period_s(self) -> float | None:
        """Seconds between connection events, None in fast mode."""
        period = self._link.period
        if period == BOARD:
            return self.parameters.interval * timing.INTERVAL_UNIT_US / 1e6
        return period

    def event_time(self, counter: int) -> float:
        """Loop time of connection event `counter` under the parameters in force."""
        return self._anchor_time + (counter - self._anchor_counter) * self.period_s()

    def next_counter(self) -> int:
        """The counter of the next connection event after now (the one a PDU queued now goes in)."""
        period = self.period_s()
        if period is None:
            return self._last_counter + 1
        passed = math.floor((self._loop.time() - self._anchor_time) / period)
        return max(self._anchor_counter + passed + 1, self._last_counter + 1)

    # ---------------------------------------------------------------- sending
    def send(self, sender: AirConnection, pdu: DataPdu | ll.ControlPdu) -> bool:
        """Queue a PDU from one end; False when the channel is already closed.

        LL control PDUs go ahead of queued data, as a link layer sends them,
        except LL_TERMINATE_IND, which follows the data already queued.
        """
        if not self.open:
            return False
        if isinstance(pdu, DataPdu):
            self._data[sender.side].append((pdu, True))
        elif isinstance(pdu, ll.TerminateInd):
            self._data[sender.side].append((pdu, False))
        else:
            self._control[sender.side].append(pdu)
        self._schedule()
        return True

    def send_acl(self, sender: AirConnection, start: bool, payload: bytes) -> bool:
        """Queue one host ACL fragment, split into LL data PDUs of the effective data length in board mode."""
        if not self.open:
            return False
        size = self.max_tx_octets[sender.side] if self.modelled else len(payload) or 1
        queue = self._data[sender.side]
        if len(payload) <= size:
            queue.append((DataPdu(start=start, payload=payload), True))
        else:
            last = len(payload) - 1
            for offset in range(0, len(payload), size):
                piece = payload[offset : offset + size]
                queue.append((DataPdu(start=start and offset == 0, payload=piece), offset + size > last))
        self._schedule()
        return True

    def close(self) -> None:
        """Stop all traffic: queued PDUs are lost, as when the link drops."""
        self.open = False
        for handle in (self._timer, self._instant_timer, self._supervision):
            if handle is not None:
                handle.cancel()
        self._timer = self._instant_timer = self._supervision = None
        self._instants.clear()
        for queue in self._control + self._data:
            queue.clear()

    # ---------------------------------------------------------------- procedures with an instant
    def at_instant(self, instant: int, callback) -> None:
        """Run `callback()` at connection event `instant` (before that event moves any data)."""
        self._instants.append((instant, callback))
        self._instants.sort(key=lambda item: item[0])
        self._arm_instant_timer()

    def apply_timing(self, parameters: ConnectionTiming) -> None:
        """New connection parameters from the current event on: called at an update's instant."""
        if self.period_s() is not None and self._last_counter >= 0:
            self._anchor_time = self.event_time(self._last_counter)
            self._anchor_counter = self._last_counter
        self.parameters = parameters
        self._reschedule()

    def _arm_instant_timer(self) -> None:
        if self._instant_timer is not None:
            self._instant_timer.cancel()
            self._instant_timer = None
        if not self._instants or not self.open:
            return
        period = self.period_s()
        if period is None:
            self._instant_timer = self._loop.call_soon(self._instant_due, None)
            return
        instant = self._instants[0][0]
        counter = self._counter_of_instant(instant)
        self._instant_timer = self._loop.call_at(self.event_time(counter), self._instant_due, counter)

    def _counter_of_instant(self, instant: int) -> int:
        """The full event counter of a 16-bit instant: the one nearest to the next event."""
        ref = self.next_counter()
        return ref + ((instant - ref + 0x8000) & 0xFFFF) - 0x8000

    def _instant_due(self, counter: int | None) -> None:
        self._instant_timer = None
        if counter is not None:
            self._last_counter = max(self._last_counter, counter)
        self._run_due_instants()
        self._arm_instant_timer()

    def _run_due_instants(self) -> None:
        """Run every procedure whose instant has come (the counter is the event now running)."""
        while self._instants and self.open:
            instant, callback = self._instants[0]
            if self.period_s() is not None and self._counter_of_instant(instant) > self._last_counter:
                break
            self._instants.pop(0)
            callback()

    # ---------------------------------------------------------------- supervision
    def vanish(self, gone: AirConnection, reason: int) -> None:
        """One end stopped answering: nothing more moves; the other end's link times out.

        The peer's controller reports the disconnection after the supervision
        timeout (at once in fast mode), with `reason` (CONNECTION_TIMEOUT).
        """
        if not self.open:
            return
        peer = self.peer_of(gone)
        for handle in (self._timer, self._instant_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._instant_timer = None
        self._instants.clear()
        self.open = False  # nothing more is queued or delivered
        if self.period_s() is None:
            self._supervision_timeout(peer, reason)
            return
        delay = timing.supervision_timeout_s(self.parameters.timeout)
        self._supervision = self._loop.call_later(delay, self._supervision_timeout, peer, reason)

    def _supervision_timeout(self, peer: AirConnection, reason: int) -> None:
        self._supervision = None
        self.close()
        peer.controller.on_le_disconnected(peer, reason)

    # ---------------------------------------------------------------- connection events
    def _pending(self, side: int) -> bool:
        return bool(self._control[side] or self._data[side])

    def _listen_counter(self, counter: int) -> int:
        """The first event at or after `counter` the peripheral listens at, when only the central has data.

        A peripheral with latency L may skip up to L events in a row while it
        has nothing to send; it listens at the event after one that carried
        data, and then every L + 1 events.
        """
        latency = self.parameters.latency if self.modelled else 0
        if latency == 0 or self._pending(self.PERIPHERAL) or self._active_counter < 0:
            return counter
        awake = self._active_counter + 1
        if counter <= awake:
            return counter
        step = latency + 1
        return awake + math.ceil((counter - awake) / step) * step

    def _schedule(self) -> None:
        """Make sure a timer runs for the next event that can carry what is queued."""
        if not self.open or not (self._pending(self.CENTRAL) or self._pending(self.PERIPHERAL)):
            return
        period = self.period_s()
        if period is None:
            if self._timer is None:
                self._timer = self._loop.call_soon(self._event, None)
            return
        counter = self._listen_counter(self.next_counter())
        if self._timer is not None:
            if self._timer_counter is not None and self._timer_counter <= counter:
                return
            self._timer.cancel()  # the peripheral has data now: an earlier event will do
        self._timer_counter = counter
        self._timer = self._loop.call_at(self.event_time(counter), self._event, counter)

    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_counter = None
        self._schedule()

    def _event(self, counter: int | None) -> None:
        """One connection event: deliver what was queued before it and fits in it, central first."""
        self._timer = None
        self._timer_counter = None
        if counter is not None:
            self._last_counter = counter
            self._run_due_instants()
            if not self.open:
                return
        if self.modelled:
            event_us = timing.event_length_us(self.parameters.interval, self.parameters.max_ce_length)
            limit = int(event_us // timing.exchange_us(0, 0, timing.LE_2M, timing.LE_2M)) + 1  # no more can fit
            batches = self._fit([self._take(side, limit) for side in (self.CENTRAL, self.PERIPHERAL)], event_us)
        else:
            batches = [self._take(side) for side in (self.CENTRAL, self.PERIPHERAL)]
        self.events += 1
        if counter is not None:
            self._active_counter = counter
        when = self.event_time(counter) if counter is not None else None
        self.history.append(EventRecord(counter, when, self.parameters.interval, len(batches[0]), len(batches[1])))
        for side in (self.CENTRAL, self.PERIPHERAL):
            if not self._deliver(side, batches[side]):
                return
        self._schedule()

    def _take(self, side: int, limit: int | None = None) -> list:
        """What is queued on one side now (at most `limit` PDUs), control PDUs first, as (pdu, completes) entries."""
        control, data = self._control[side], self._data[side]
        if limit is None or len(control) + len(data) <= limit:
            batch = [(pdu, False) for pdu in control]
            control.clear()
            batch.extend(data)
            data.clear()
            return batch
        batch = []
        while control and len(batch) < limit:
            batch.append((control.popleft(), False))
        while data and len(batch) < limit:
            batch.append(data.popleft())
        return batch

    def _fit(self, batches: list, event_us: float) -> list:
        """Keep what fits in this event; put the rest back at the head of its queue."""
        sizes = [[pdu_payload_octets(pdu) for pdu, _ in batch] for batch in batches]
        c_sent, p_sent, _ = timing.plan_event(
            sizes[0], sizes[1], event_us, self.phy[0], self.phy[1], self.encrypted, self.coding
        )
        kept = []
        for side, sent in ((self.CENTRAL, c_sent), (self.PERIPHERAL, p_sent)):
            batch = batches[side]
            rest = batch[sent:]
            for pdu, completes in reversed(rest):
                if isinstance(pdu, DataPdu) or isinstance(pdu, ll.TerminateInd):
                    self._data[side].appendleft((pdu, completes))
                else:
                    self._control[side].appendleft(pdu)
            kept.append(batch[:sent])
        return kept

    def _deliver(self, side: int, batch: list) -> bool:
        """Hand one side's PDUs to the peer; False when the link ended on the way."""
        sender, receiver = self._ends[side], self._ends[1 - side]
        acknowledged = 0
        for pdu, completes in batch:
            if not self.open:
                return False
            receiver.controller.on_air_pdu(receiver, pdu)
            if completes:
                acknowledged += 1
            elif isinstance(pdu, ll.TerminateInd):
                # The peer has acknowledged LL_TERMINATE_IND: the link is gone for both.
                self.close()
                sender.controller.on_terminate_acknowledged(sender)
                return False
        if acknowledged and self.open:
            sender.controller.on_data_acknowledged(sender, acknowledged)
        return self.open


class AirLink(LocalLink):
    """The air of one radio: which controllers hear each other, and connection timing."""

    def __init__(self, latency="board"):
        super().__init__()
        self.period = parse_latency(latency)  # BOARD, None (fast) or seconds
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

    def open_channel(self, central: AirConnection, peripheral: AirConnection,
                     parameters: ConnectionTiming | None = None) -> DataChannel:
        return DataChannel(self, central, peripheral, parameters)

    # Bumble's own advertising path is not used by our controllers.
    def send_advertising_pdu(self, sender_controller, packet) -> None:
        logger.debug("ignoring bumble advertising PDU %s", packet)


def _deliver_advertising(link: AirLink, controller, pdu: AdvertisingPdu) -> None:
    if controller in link.controllers:
        controller.on_air_advertising(pdu)
