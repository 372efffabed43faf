"""The radio address of `bleboard air --engine rootcanal`: each board gets a Root Canal controller.

The server listens where `bleboard air` would (the per-user default unix socket, or
--listen) with the same locking and idle exit, and relays each board's H4 stream to
its own connection on Root Canal's HCI port, so boards started with no setting use
Root Canal unchanged.

Root Canal makes a controller per HCI connection with the lowest free address, so a
board that restarts BLE (closes and reopens its socket) could come back with another
address, and its bonds would no longer match. On a unix socket the server knows the
board's process, as `bleboard air` does: it keeps that process's controller for KEEP_S
after the socket closes and hands it back when the process reconnects. Root Canal's
HCI Reset leaves LE connections up, so a controller that is let go first has its
connections ended (and a connection attempt cancelled), as NimBLE does when BLE is
turned off; it is handed back only once that is done, so no stale event reaches the
board's new host.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys

from bumble.transport.common import PacketParser

from bleboard.radio.rootcanal import RootCanal
from bleboard.radio.server import AirServer, _peer_process

logger = logging.getLogger(__name__)

KEEP_S = 3.0  # how long a board process's controller waits for that process to reconnect
QUIET_TIMEOUT_S = 3.0  # how long a returning board waits for its old connections to end

# H4 and HCI values the relay reads and writes (Core spec Vol 4 Part E)
H4_COMMAND, H4_EVENT = 0x01, 0x04
EVT_DISCONNECTION_COMPLETE, EVT_LE_META = 0x05, 0x3E
# LE Connection Complete, LE Enhanced Connection Complete (v1, v2)
LE_CONNECTION_COMPLETE = (0x01, 0x0A, 0x29)
HCI_DISCONNECT = 0x0406
HCI_LE_CREATE_CONNECTION, HCI_LE_EXTENDED_CREATE_CONNECTION = 0x200D, 0x2043
HCI_LE_CREATE_CONNECTION_CANCEL = 0x200E
REMOTE_USER_TERMINATED = 0x13


def _command(opcode: int, params: bytes = b"") -> bytes:
    return bytes([H4_COMMAND]) + opcode.to_bytes(2, "little") + bytes([len(params)]) + params


class _Relay(asyncio.Protocol):
    """One board connection: its bytes go to its controller (a Root Canal HCI connection) and back."""

    def __init__(self, server: RelayServer):
        self.server = server
        self.board = None  # (pid, start time) of the process at the other end, if known
        self.transport = None
        self.upstream: _Upstream | None = None
        self.pending: list[bytes] | None = None  # bytes from the board before its controller is ready

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.board = _peer_process(transport.get_extra_info("socket"))
        self.server.client_connected(self)

    def _choose_controller(self) -> None:
        """At the board's first bytes (its old socket's EOF is visible by then): its kept
        controller once that is quiet, else a new Root Canal connection."""
        self.pending = []
        if self.board is not None:
            for other in self.server.clients_of(self.board):
                if other is not self and other.upstream is not None and other.closed_by_peer():
                    other.connection_lost(None)
            kept = self.server.kept.pop(self.board, None)
            if kept is not None and not kept.transport.is_closing():
                kept.when_quiet(lambda: self._take(kept), lambda: self._give_up(kept))
                return
        asyncio.get_running_loop().create_task(self._open_upstream())

    def _take(self, upstream: _Upstream) -> None:
        if self.transport is None:
            upstream.close()
            return
        upstream.adopt(self)
        self._flush()

    def _give_up(self, upstream: _Upstream) -> None:
        logger.info("a kept controller did not end its connections in time; using a new one")
        upstream.close()
        asyncio.get_running_loop().create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(lambda: _Upstream(self), "127.0.0.1", self.server.hci_port)
        except OSError as error:
            logger.error("cannot reach Root Canal on port %d: %s", self.server.hci_port, error)
            self.close()
            return
        if self.transport is None:
            upstream.close()
            return
        self.upstream = upstream
        self._flush()

    def _flush(self) -> None:
        for data in self.pending or ():
            self.upstream.from_host(data)
        self.pending = None

    def data_received(self, data: bytes) -> None:
        if self.upstream is None and self.pending is None:
            self._choose_controller()
        if self.upstream is not None:
            self.upstream.from_host(data)
        else:
            self.pending.append(data)

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc) -> None:
        if self.transport is None:
            return  # already handled (taken over by the same board's new connection)
        self.transport = None
        self.server.client_disconnected(self)
        upstream, self.upstream = self.upstream, None
        if upstream is None:
            return
        if self.board is not None and not self.server.closing and upstream.can_keep():
            self.server.keep(self.board, upstream)
        else:
            upstream.close()

    def to_host(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def closed_by_peer(self) -> bool:
        """True if the board has shut its end (EOF queued, not yet read by the loop)."""
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None:
            return True
        try:
            with socket.socket(fileno=os.dup(sock.fileno())) as probe:
                return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


class _HostSide:
    """Packets the board's host sends: connection attempts are noted."""

    def __init__(self, upstream: _Upstream):
        self.upstream = upstream

    def on_packet(self, packet: bytes) -> None:
        if len(packet) >= 3 and packet[0] == H4_COMMAND:
            opcode = int.from_bytes(packet[1:3], "little")
            if opcode in (HCI_LE_CREATE_CONNECTION, HCI_LE_EXTENDED_CREATE_CONNECTION):
                self.upstream.creating = True


class _Upstream(asyncio.Protocol):
    """One Root Canal controller. It follows both directions to know the controller's live
    connections and connection attempt; bytes from it while no board holds it are dropped."""

    def __init__(self, relay: _Relay | None):
        self.relay = relay
        self.transport = None
        self.expiry: asyncio.TimerHandle | None = None
        self.connections: set[int] = set()
        self.creating = False
        self.host_parser = PacketParser(_HostSide(self))
        self.controller_parser = PacketParser(self)
        self._quiet = None  # (on_quiet, timer) while a returning board waits for this controller

    def connection_made(self, transport) -> None:
        self.transport = transport

    # ---- bytes ----------------------------------------------------------------
    def from_host(self, data: bytes) -> None:
        self.host_parser.feed_data(data)
        self._send(data)

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.controller_parser.feed_data(data)
        if self.relay is not None:
            self.relay.to_host(data)

    def on_packet(self, packet: bytes) -> None:
        """An H4 packet from Root Canal: note LE connections made and ended."""
        if len(packet) < 3 or packet[0] != H4_EVENT:
            return
        code, body = packet[1], packet[3:]
        if code == EVT_DISCONNECTION_COMPLETE and len(body) >= 3 and body[0] == 0:
            self.connections.discard(int.from_bytes(body[1:3], "little"))
        elif code == EVT_LE_META and len(body) >= 4 and body[0] in LE_CONNECTION_COMPLETE:
            self.creating = False
            if body[1] == 0:
                handle = int.from_bytes(body[2:4], "little")
                self.connections.add(handle)
                if self.relay is None:
                    self._disconnect(handle)  # made after its board let go
        self._check_quiet()

    # ---- being kept between two connections of one board -----------------------
    def can_keep(self) -> bool:
        """Only between whole packets: else our commands would land inside the board's."""
        return not self.host_parser.packet

    def let_go(self) -> None:
        """The board let go: end what it left running on the controller."""
        self.relay = None
        for handle in sorted(self.connections):
            self._disconnect(handle)
        if self.creating:
            self._send(_command(HCI_LE_CREATE_CONNECTION_CANCEL))

    def _disconnect(self, handle: int) -> None:
        self._send(_command(HCI_DISCONNECT, handle.to_bytes(2, "little") + bytes([REMOTE_USER_TERMINATED])))

    def when_quiet(self, on_quiet, on_timeout) -> None:
        """Call on_quiet once no connection or attempt is left (now, or when the last ends)."""
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

        def timed_out():
            self._quiet = None
            on_timeout()

        self._quiet = (on_quiet, on_timeout, asyncio.get_running_loop().call_later(QUIET_TIMEOUT_S, timed_out))
        self._check_quiet()

    def _check_quiet(self) -> None:
        if self._quiet is not None and not self.connections and not self.creating:
            on_quiet, _, timer = self._quiet
            self._quiet = None
            timer.cancel()
            on_quiet()

    def adopt(self, relay: _Relay) -> None:
        self.relay = relay
        relay.upstream = self

    def connection_lost(self, exc) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if self._quiet is not None:  # a board waits for this controller: it gets a new one
            _, on_timeout, timer = self._quiet
            self._quiet = None
            timer.cancel()
            on_timeout()
        if self.relay is not None and self.relay.upstream is self:
            self.relay.close()  # Root Canal dropped this controller: the board loses its radio

    def close(self) -> None:
        self.relay = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class RelayServer(AirServer):
    """A radio address (unix or tcp, with the default socket's locking and idle exit) whose
    clients each get a Root Canal controller instead of one of ours."""

    def __init__(self, address: str, root_canal: RootCanal, idle_exit: float | None = None):
        super().__init__(address, idle_exit=idle_exit)
        self.root_canal = root_canal
        self.kept: dict[tuple, _Upstream] = {}  # board process -> its controller, between connections
        self.closing = False

    @property
    def hci_port(self) -> int:
        return self.root_canal.hci_port

    def keep(self, board: tuple, upstream: _Upstream) -> None:
        """Hold a board's controller for KEEP_S: the same process reconnecting gets it back."""
        old = self.kept.pop(board, None)
        if old is not None:
            old.close()
        upstream.let_go()
        self.kept[board] = upstream

        def expire():
            if self.kept.get(board) is upstream:
                del self.kept[board]
                upstream.close()

        upstream.expiry = asyncio.get_running_loop().call_later(KEEP_S, expire)

    async def start(self) -> None:
        self._stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        if self.kind == "unix":
            sock = self._bind_unix(self.target)
            self._server = await loop.create_unix_server(lambda: _Relay(self), sock=sock)
        else:
            host, port = self.target
            self._server = await loop.create_server(lambda: _Relay(self), host, port)
            self.address = f"tcp:{host}:{self._server.sockets[0].getsockname()[1]}"
        logger.info("serving Root Canal (HCI port %d) on %s", self.hci_port, self.address)
        loop.create_task(self._watch_root_canal())
        self._arm_idle_timer()

    async def close(self) -> None:
        """Stop serving, then stop Root Canal (its controllers go with it)."""
        self.closing = True
        for upstream in self.kept.values():
            upstream.close()
        self.kept.clear()
        await super().close()
        await asyncio.get_running_loop().run_in_executor(None, self.root_canal.stop)

    async def _watch_root_canal(self) -> None:
        """If Root Canal dies, the radio is gone: stop serving (boards see their radio end)."""
        process = self.root_canal.process
        if process is None:
            return
        await asyncio.get_running_loop().run_in_executor(None, process.wait)
        if not self._stopped.is_set():
            print("bleboard air: Root Canal exited; stopping", file=sys.stderr)
            self.stop()
