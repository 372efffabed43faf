"""The shared radio server: one virtual air, one controller per connected process.

Each accepted socket speaks H4 (packet type byte + HCI packet) exactly as
Bumble's `unix:` and `tcp-client:` transports do, so a host connects with an
ordinary transport spec.  A client that disappears (EOF, ECONNRESET, killed
with SIGKILL) takes its controller off the air; its peers see their
connections time out.

A board keeps its public address for the life of its process: a client's
controller is made at its first packet, and on a unix socket the server
knows the client process (SO_PEERCRED), so a program that restarts BLE
(closes and reopens its transport) gets the address it had.

For `unix:` addresses the server holds an exclusive flock on PATH.lock for
its whole life, binds under a temporary name and renames it to PATH once
listening, so a connect succeeds as soon as PATH exists, two servers never
serve one path, and only the lock holder ever replaces or removes PATH.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
import struct

from bumble import core
from bumble.transport.common import PacketParser

from bleboard.radio.controller import VirtualController
from bleboard.radio.link import AirLink

logger = logging.getLogger(__name__)

UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL


class ServerBusyError(OSError):
    """Another `bleboard air` already serves this unix socket path."""


def parse_listen_address(spec: str) -> tuple[str, object]:
    """("unix", path) or ("tcp", (host, port)) for `unix:PATH` / `tcp:HOST:PORT`."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ValueError(f"address must be unix:PATH or tcp:HOST:PORT, not {spec!r}")
    if kind == "unix":
        if len(os.fsencode(rest)) > UNIX_PATH_MAX:
            raise ValueError(f"unix socket path is longer than {UNIX_PATH_MAX} bytes: {rest!r}")
        return "unix", rest
    if kind == "tcp":
        host, sep, port = rest.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"tcp address must be tcp:HOST:PORT with a port 0..65535, not {spec!r}")
        return "tcp", (host.strip("[]"), int(port))
    raise ValueError(f"address must be unix:PATH or tcp:HOST:PORT, not {spec!r}")


def _peer_process(sock) -> tuple | None:
    """(pid, start time) of the process at the other end of a unix socket, or None.

    A board process that reconnects (BLE().active(False) then True) is the
    same board and keeps its address; the start time tells a recycled pid apart.
    """
    if sock is None or sock.family != socket.AF_UNIX or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        pid, _uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        with open(f"/proc/{pid}/stat", "rb") as f:
            start_time = f.read().rsplit(b")", 1)[1].split()[19]
    except (OSError, ValueError, IndexError):
        return None
    return ("process", pid, start_time)


class _Client(asyncio.Protocol):
    """One connected host: an H4 byte stream to and from its own controller."""

    def __init__(self, server: AirServer):
        self._server = server
        self._transport: asyncio.Transport | None = None
        self.controller: VirtualController | None = None
        self.board: tuple | None = None
        self._parser: PacketParser | None = None

    # The controller's host sink.
    def on_packet(self, packet: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(packet)

    def connection_made(self, transport) -> None:
        self._transport = transport
        self.board = _peer_process(transport.get_extra_info("socket"))
        self._server.client_connected(self)

    def _join_the_air(self) -> None:
        """Make this host's controller, at its first packet (see below)."""
        link = self._server.link
        if self.board is not None:
            # A process that closed its previous connection and reconnected at
            # once: by its first command the old socket is closed, but its EOF
            # may still wait in our queue; take it now, so the board gets its
            # address back.
            for other in self._server.clients_of(self.board):
                if other is not self and other.controller is not None and other.closed_by_peer():
                    other.drop()
        address = link.allocate_public_address(self.board)
        self.controller = VirtualController(self._server.next_name(), link, public_address=address)
        self.controller.host = self
        self._parser = PacketParser(self.controller)
        logger.info("%s joined the air as %s", self.controller.name, self.controller.public_address)

    def data_received(self, data: bytes) -> None:
        if self.controller is None:
            self._join_the_air()
        try:
            self._parser.feed_data(data)
        except core.InvalidPacketError as error:
            logger.warning("%s: not H4 (%s), closing", self.controller.name, error)
            self._transport.close()

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc) -> None:
        if self.controller is not None:
            logger.info("%s: left the air (%s)", self.controller.name, exc or "EOF")
        self._transport = None
        if self.controller is not None:
            self._server.link.remove_controller(self.controller)
        self._server.client_disconnected(self)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def closed_by_peer(self) -> bool:
        """True if the peer has shut its end (EOF queued, not yet read by the loop)."""
        if self._transport is None:
            return True
        sock = self._transport.get_extra_info("socket")
        try:
            with socket.socket(fileno=os.dup(sock.fileno())) as probe:
                return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def drop(self) -> None:
        """Take this client's controller off the air now; the socket closes after."""
        if self.controller is not None:
            self._server.link.remove_controller(self.controller)
        self.close()


class AirServer:
    """Serves one `AirLink` on a unix or tcp socket until `stop()` or idle timeout."""

    def __init__(self, address: str, latency="board", idle_exit: float | None = None):
        self.kind, self.target = parse_listen_address(address)
        self.address = address
        self.link = AirLink(latency)
        self.idle_exit = idle_exit
        self._clients: set[_Client] = set()
        self._count = 0
        self._server: asyncio.base_events.Server | None = None
        self._lock_fd: int | None = None
        self._socket_id: tuple[int, int] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Event | None = None

    def next_name(self) -> str:
        self._count += 1
        return f"air{self._count}"

    @property
    def clients(self) -> int:
        return len(self._clients)

    def clients_of(self, board) -> list[_Client]:
        return [client for client in self._clients if client.board == board]

    def client_connected(self, client: _Client) -> None:
        self._clients.add(client)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def client_disconnected(self, client: _Client) -> None:
        self._clients.discard(client)
        self._arm_idle_timer()

    def _arm_idle_timer(self) -> None:
        if self.idle_exit is None or self._clients or self._idle_timer is not None or self._stopped is None:
            return
        self._idle_timer = asyncio.get_running_loop().call_later(self.idle_exit, self._on_idle)

    def _on_idle(self) -> None:
        self._idle_timer = None
        if not self._clients:
            logger.info("no client for %.1f s, exiting", self.idle_exit)
            self.stop()

    async def start(self) -> None:
        """Bind and listen; when this returns, a client can connect."""
        self._stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        if self.kind == "unix":
            sock = self._bind_unix(self.target)
            self._server = await loop.create_unix_server(lambda: _Client(self), sock=sock)
        else:
            host, port = self.target
            self._server = await loop.create_server(lambda: _Client(self), host, port)
            bound = self._server.sockets[0].getsockname()
            self.address = f"tcp:{host}:{bound[1]}"
        logger.info("serving a virtual radio on %s (latency %s)", self.address, self.link.latency)
        self._arm_idle_timer()

    def _bind_unix(self, path: str) -> socket.socket:
        lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise ServerBusyError(f"another bleboard air already serves unix:{path}") from None
        self._lock_fd = lock_fd
        temporary = os.path.join(os.path.dirname(path) or ".", f".{os.getpid()}.s")
        if os.path.lexists(temporary):
            os.unlink(temporary)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(temporary)
            sock.listen(128)
            os.rename(temporary, path)  # atomically replaces a stale socket of a dead server
        except BaseException:
            sock.close()
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise
        info = os.stat(path)
        self._socket_id = (info.st_dev, info.st_ino)
        sock.setblocking(False)
        return sock

    def stop(self) -> None:
        if self._stopped is not None:
            self._stopped.set()

    async def serve(self) -> None:
        """Run until stop(); then clean up (socket file, lock, clients)."""
        if self._server is None:
            await self.start()
        try:
            await self._stopped.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._remove_socket_file()  # first, so nobody new connects to a server that is leaving
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _remove_socket_file(self) -> None:
        if self.kind != "unix" or self._socket_id is None:
            return
        path = self.target
        try:
            info = os.stat(path)
            if (info.st_dev, info.st_ino) == self._socket_id:
                os.unlink(path)
        except FileNotFoundError:
            pass
        self._socket_id = None
