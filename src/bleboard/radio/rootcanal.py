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

from bleboard.radio.errors import HCITransportError
from bleboard.radio.server import AirServer

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
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
    """One board: bytes from its socket go to its own Root Canal HCI connection and back."""

    def __init__(self, server: RelayServer):
        self.server = server
        self.board = None  # AirServer.clients_of() asks
        self.transport = None
        self.upstream = None
        self.pending = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.server.client_connected(self)
        asyncio.get_running_loop().create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.upstream, _ = await loop.create_connection(lambda: _Upstream(self), "127.0.0.1", self.server.hci_port)
        except OSError as error:
            logger.error("cannot reach Root Canal on port %d: %s", self.server.hci_port, error)
            self.close()
            return
        if self.transport is None or self.transport.is_closing():
            self.upstream.close()
            return
        for data in self.pending:
            self.upstream.write(data)
        self.pending = []

    def data_received(self, data: bytes) -> None:
        if self.upstream is None:
            self.pending.append(data)
        else:
            self.upstream.write(data)

    def connection_lost(self, exc) -> None:
        self.server.client_disconnected(self)
        if self.upstream is not None and not self.upstream.is_closing():
            self.upstream.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class _Upstream(asyncio.Protocol):
    def __init__(self, relay: _Relay):
        self.relay = relay

    def data_received(self, data: bytes) -> None:
        if self.relay.transport is not None and not self.relay.transport.is_closing():
            self.relay.transport.write(data)

    def connection_lost(self, exc) -> None:
        self.relay.close()  # Root Canal dropped this controller: the board loses its radio


class RelayServer(AirServer):
    """A radio address (unix or tcp, with the default socket's locking and idle exit) whose
    clients each get a Root Canal controller instead of one of ours."""

    def __init__(self, address: str, root_canal: RootCanal, idle_exit: float | None = None):
        super().__init__(address, idle_exit=idle_exit)
        self.root_canal = root_canal

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
