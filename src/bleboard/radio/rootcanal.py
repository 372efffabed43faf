"""Root Canal as a second radio engine: an independent controller to check ours against.

Root Canal (Android's virtual controller, PyPI package `rootcanal`) gives every TCP
client of its HCI port its own controller on one shared air, the same model as
`bleboard air`. `RootCanal` runs its binary on free local ports; `RelayServer` serves
the usual radio address (the per-user default unix socket, or --listen) and joins each
client to Root Canal, so boards started with no setting use it unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time

from bumble.transport.common import PacketParser

from bleboard.radio.errors import HCITransportError
from bleboard.radio.server import AirServer, _peer_process

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
# H4 and HCI values the relay reads and writes (Core spec Vol 4 Part E)
H4_COMMAND, H4_EVENT = 0x01, 0x04
EVT_DISCONNECTION_COMPLETE, EVT_LE_META = 0x05, 0x3E
LE_CONNECTION_COMPLETE = (0x01, 0x0A)  # LE Connection Complete, LE Enhanced Connection Complete
HCI_DISCONNECT_OPCODE = 0x0406
REMOTE_USER_TERMINATED = 0x13
KEEP_S = 3.0  # how long a board process's controller waits for that process to reconnect
STOP_TIMEOUT_S = 5.0
PORT_NAMES = ("test_port", "hci_port", "link_port", "link_ble_port")


class RootCanalMissing(HCITransportError):
    """The rootcanal package (pip install rootcanal==1.10.0) is not installed or has no binary here."""


def binary_path() -> str:
    """Path of the Root Canal executable shipped in the rootcanal wheel."""
    try:
        from rootcanal.binaries import get_package_binary_resource_path
    except ImportError:
        raise RootCanalMissing("Root Canal is not installed: pip install rootcanal==1.10.0") from None
    path = get_package_binary_resource_path("rootcanal")
    if not os.access(path, os.X_OK):
        raise RootCanalMissing(f"the rootcanal package has no executable for this platform ({path})")
    return path


def _free_ports(count: int) -> list[int]:
    """Ports free on the loopback now (all held open together, so they differ)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _accepts(port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RootCanal:
    """A Root Canal process on free ports; `hci_spec` is what a host's transport opens."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self.process: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}

    @property
    def hci_port(self) -> int:
        return self.ports["hci_port"]

    @property
    def hci_spec(self) -> str:
        return f"tcp-client:127.0.0.1:{self.hci_port}"

    @property
    def air_address(self) -> str:
        """The BLEBOARD_AIR form: boards given it open one HCI connection each, as to `bleboard air`."""
        return f"tcp:127.0.0.1:{self.hci_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> RootCanal:
        """Start it and return once its HCI port accepts; HCITransportError if it does not."""
        self.ports = dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES))))
        command = [binary_path()] + [f"-{name}={port}" for name, port in self.ports.items()]
        out = None if self.verbose else subprocess.DEVNULL
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                        start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        delay = 0.01
        # Its HCI port is opened last, after the link ports: once it accepts, Root Canal is ready.
        while not _accepts(self.hci_port):
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise HCITransportError(f"Root Canal exited at start (status {code}); run with --verbose to see why")
            if time.monotonic() >= deadline:
                self.stop()
                raise HCITransportError(f"Root Canal did not open its HCI port within {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        logger.info("Root Canal pid %d, HCI on tcp 127.0.0.1:%d", self.process.pid, self.hci_port)
        return self

    def stop(self) -> None:
        """SIGTERM (it closes its controllers and exits in a few seconds), then SIGKILL."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)

    def __enter__(self) -> RootCanal:
        return self.start() if not self.running else self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Relay(asyncio.Protocol):
    """One board connection: its bytes go to a Root Canal HCI connection (a controller) and back.

    Root Canal makes a controller per HCI connection and gives it the lowest free
    address, so a board that restarts BLE (closes and reopens its socket) could come
    back with another address if Root Canal has not freed the old one yet. On a unix
    socket the relay knows the board's process, as `bleboard air` does: it keeps that
    process's controller for KEEP_S after the socket closes and hands it back when the
    process reconnects (the host's HCI Reset then starts it afresh), so a board keeps
    its address, and its bonds stay valid, for the life of its process.
    """

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
        controller if it has one, else a new Root Canal connection."""
        if self.board is not None:
            for other in self.server.clients_of(self.board):
                if other is not self and other.upstream is not None and other.closed_by_peer():
                    other.connection_lost(None)
            kept = self.server.kept.pop(self.board, None)
            if kept is not None and not kept.transport.is_closing():
                kept.adopt(self)
                return
        self.pending = []
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
        for data in self.pending or ():
            upstream.write(data)
        self.pending = None

    def data_received(self, data: bytes) -> None:
        if self.upstream is None and self.pending is None:
            self._choose_controller()
        if self.upstream is not None:
            self.upstream.write(data)
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
        if self.board is not None and not self.server.closing:
            self.server.keep(self.board, upstream)
        else:
            upstream.close()

    def write(self, data: bytes) -> None:
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


class _Upstream(asyncio.Protocol):
    """The Root Canal side of one controller; bytes that arrive while it is kept are dropped.

    It follows the controller's events to know its live connections: Root Canal's HCI
    Reset leaves them up, so when a board lets go of its controller the relay ends them
    itself (as NimBLE's stop does), and the peers see the board leave.
    """

    def __init__(self, relay: _Relay | None):
        self.relay = relay
        self.transport = None
        self.expiry: asyncio.TimerHandle | None = None
        self.connections: set[int] = set()
        self.parser = PacketParser(self)

    def on_packet(self, packet: bytes) -> None:
        """An H4 packet from Root Canal: note LE connections made and ended."""
        if len(packet) < 3 or packet[0] != H4_EVENT:
            return
        code, body = packet[1], packet[3:]
        if code == EVT_DISCONNECTION_COMPLETE and len(body) >= 3 and body[0] == 0:
            self.connections.discard(int.from_bytes(body[1:3], "little"))
        elif code == EVT_LE_META and len(body) >= 4 and body[0] in LE_CONNECTION_COMPLETE and body[1] == 0:
            self.connections.add(int.from_bytes(body[2:4], "little"))

    def end_connections(self) -> None:
        """HCI Disconnect (remote user terminated) for every connection still up."""
        for handle in sorted(self.connections):
            self.write(bytes([H4_COMMAND]) + HCI_DISCONNECT_OPCODE.to_bytes(2, "little") + bytes([3])
                       + handle.to_bytes(2, "little") + bytes([REMOTE_USER_TERMINATED]))

    def connection_made(self, transport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def adopt(self, relay: _Relay) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.relay = relay
        relay.upstream = self

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)
        if self.relay is not None:
            self.relay.write(data)

    def connection_lost(self, exc) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
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

    def keep(self, board: tuple, upstream: _Upstream) -> None:
        """Hold a board's controller for KEEP_S: the same process reconnecting gets it back."""
        old = self.kept.pop(board, None)
        if old is not None:
            old.close()
        upstream.relay = None
        upstream.end_connections()
        self.kept[board] = upstream

        def expire():
            if self.kept.get(board) is upstream:
                del self.kept[board]
                upstream.close()

        upstream.expiry = asyncio.get_running_loop().call_later(KEEP_S, expire)

    @property
    def hci_port(self) -> int:
        return self.root_canal.hci_port

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
