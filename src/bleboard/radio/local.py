"""An in-process radio: several boards (hosts) in one process, each with its own controller.

The host and its controller exchange HCI packets as bytes (H4 packet type
byte first), each hop on a later loop iteration, as over a real transport;
nothing is shared between them but those bytes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from bumble.transport.common import BaseSource, Transport, TransportSink

from bleboard.radio.controller import VirtualController
from bleboard.radio.link import AirLink

logger = logging.getLogger(__name__)


class _ControllerSource(BaseSource):
    """Packets from the controller to the host."""

    def __init__(self, controller: VirtualController):
        super().__init__()
        self._controller = controller

    def set_packet_sink(self, sink: TransportSink) -> None:
        super().set_packet_sink(sink)
        self._controller.host = sink  # the controller sends on a later loop iteration


class _ControllerSink:
    """Packets from the host to the controller, delivered on the next loop iteration."""

    def __init__(self, controller: VirtualController):
        self._controller = controller
        self._loop = asyncio.get_running_loop()
        self.closed = False

    def on_packet(self, packet: bytes) -> None:
        if not self.closed:
            self._loop.call_soon(self._deliver, bytes(packet))

    def _deliver(self, packet: bytes) -> None:
        if self.closed:
            return
        try:
            self._controller.on_packet(packet)
        except Exception:  # a malformed packet must not take the radio down
            logger.exception("controller %s rejected a packet from its host", self._controller.name)


class LocalTransport(Transport):
    """A host's HCI transport to a controller on a `LocalRadio`; close() takes the board off the air."""

    def __init__(self, radio: LocalRadio, controller: VirtualController):
        self.radio = radio
        self.controller = controller
        super().__init__(_ControllerSource(controller), _ControllerSink(controller))

    def detach(self, lost: bool) -> None:
        """Remove the controller; `lost` tells the host its transport went away under it."""
        if self.sink.closed:
            return
        self.sink.closed = True
        self.radio._transports.discard(self)
        self.radio.link.remove_controller(self.controller)
        if lost:
            from bleboard.radio.transport import report_transport_lost

            if not self.source.terminated.done():
                self.source.terminated.set_result(None)
            report_transport_lost(self.source.sink)
        elif not self.source.terminated.done():
            self.source.terminated.set_result(None)

    async def close(self) -> None:
        self.detach(lost=False)


class LocalRadio:
    """One virtual air in this process; `attach()` gives each board a transport to its own controller.

    `latency` is the connection event timing of the air: "board" (the
    link-layer timing model, the default), "fast" (next loop iteration) or
    milliseconds per event.
    `extended_advertising=False` gives Bluetooth 4.2-style controllers that
    only know the legacy advertising and scanning commands.  All hosts of one
    LocalRadio must run on the same asyncio loop.
    """

    def __init__(self, latency="board", *, extended_advertising: bool = True):
        self.link = AirLink(latency)
        self.extended_advertising = extended_advertising
        self._transports: set[LocalTransport] = set()
        self._names = itertools.count(1)

    @property
    def latency(self):
        return self.link.latency

    @property
    def controllers(self) -> list[VirtualController]:
        return list(self.link.controllers)

    def attach(self, name: str | None = None) -> Transport:
        """A new controller on this air, and the transport a host uses to talk HCI to it.

        Must be called on the running asyncio loop that will run the host.  A
        `name` used before on this radio gets the same public address again.
        """
        asyncio.get_running_loop()  # raises RuntimeError with a clear message when there is none
        # A named board that attaches again gets its address back, as a board would.
        address = self.link.allocate_public_address(("name", name) if name is not None else None)
        if name is None:
            name = f"board{next(self._names)}"
        controller = VirtualController(
            name, self.link, public_address=address, extended_advertising=self.extended_advertising
        )
        transport = LocalTransport(self, controller)
        self._transports.add(transport)
        return transport

    def close(self) -> None:
        """Take every board off the air; their hosts see their transports lost."""
        for transport in list(self._transports):
            transport.detach(lost=True)

    def __repr__(self) -> str:
        return f"LocalRadio(latency={self.latency!r}, boards={len(self._transports)})"
