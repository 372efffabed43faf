"""btsnoop capture of a board's HCI traffic, for Wireshark.

`wrap_transport(transport, path)` returns a transport that writes every HCI
packet, both directions, to a btsnoop file (datalink 1002, H4) using Bumble's
BtSnooper; `read_records(path)` reads such a file back (tests check an
exchange with it).  Unlike Bumble's SnoopingTransport it also passes on
`on_transport_lost` to the host, and flushes each record so a capture of a
process that is killed is still readable.
"""

from __future__ import annotations

import struct

from bumble.snoop import BtSnooper, Snooper
from bumble.transport.common import Transport, TransportSink


class _FlushingFile:
    """The file BtSnooper writes to: every record reaches the disk at once."""

    def __init__(self, path: str):
        self._file = open(path, "wb")  # closed by the transport

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._file.flush()
        return written

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed


class _SnoopSource:
    """Controller-to-host side: record, then hand to the host."""

    def __init__(self, source, snooper: Snooper, output: _FlushingFile):
        self._source = source
        self._snooper = snooper
        self._output = output
        self.sink: TransportSink | None = None
        self.terminated = source.terminated

    def set_packet_sink(self, sink: TransportSink) -> None:
        self.sink = sink
        self._source.set_packet_sink(self)

    def on_packet(self, packet: bytes) -> None:
        if not self._output.closed:
            self._snooper.snoop(bytes(packet), Snooper.Direction.CONTROLLER_TO_HOST)
        if self.sink is not None:
            self.sink.on_packet(packet)

    def on_transport_lost(self) -> None:
        from bleboard.radio.transport import report_transport_lost

        if self.sink is not None:
            report_transport_lost(self.sink)

    async def wait_for_termination(self) -> None:
        await self.terminated

    def close(self) -> None:
        if hasattr(self._source, "close"):
            self._source.close()


class _SnoopSink:
    """Host-to-controller side: record, then hand to the controller."""

    def __init__(self, sink: TransportSink, snooper: Snooper, output: _FlushingFile):
        self._sink = sink
        self._snooper = snooper
        self._output = output

    def on_packet(self, packet: bytes) -> None:
        if not self._output.closed:
            self._snooper.snoop(bytes(packet), Snooper.Direction.HOST_TO_CONTROLLER)
        self._sink.on_packet(packet)


class SnoopTransport(Transport):
    """A transport that records its traffic in a btsnoop file until closed."""

    def __init__(self, transport: Transport, path: str):
        self.transport = transport
        self.path = path
        self._output = _FlushingFile(path)
        snooper = BtSnooper(self._output)  # writes the btsnoop header (version 1, H4)
        super().__init__(
            _SnoopSource(transport.source, snooper, self._output),
            _SnoopSink(transport.sink, snooper, self._output),
        )

    async def close(self) -> None:
        try:
            await self.transport.close()
        finally:
            self._output.close()


def wrap_transport(transport: Transport, path: str) -> SnoopTransport:
    """Record `transport`'s HCI packets in the btsnoop file `path` (created or truncated)."""
    return SnoopTransport(transport, path)


_BTSNOOP_MAGIC = b"btsnoop\0"
_H4_DATALINK = 1002


def read_records(path: str) -> list[tuple[Snooper.Direction, bytes]]:
    """The packets of an H4 btsnoop file: (direction, H4 packet) in order.

    Record flags bit 0 is the direction (0 host to controller, 1 controller to
    host), as BtSnooper writes them; a record cut short by a killed writer ends
    the list.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != _BTSNOOP_MAGIC:
        raise ValueError(f"{path} is not a btsnoop file")
    _version, datalink = struct.unpack_from(">II", data, 8)
    if datalink != _H4_DATALINK:
        raise ValueError(f"{path}: datalink {datalink}, not H4 ({_H4_DATALINK})")
    records = []
    offset = 16
    while offset + 24 <= len(data):
        _original, included, flags, _drops, _timestamp = struct.unpack_from(">IIIIQ", data, offset)
        packet = data[offset + 24 : offset + 24 + included]
        if len(packet) < included:
            break
        direction = Snooper.Direction.CONTROLLER_TO_HOST if flags & 1 else Snooper.Direction.HOST_TO_CONTROLLER
        records.append((direction, packet))
        offset += 24 + included
    return records
