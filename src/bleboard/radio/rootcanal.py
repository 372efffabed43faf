"""Root Canal as a second radio engine: an independent controller to check ours against.

Root Canal (Android's virtual controller, PyPI package `rootcanal`) gives every TCP
client of its HCI port its own controller on one shared air, the same model as
`bleboard air`. `RootCanal` runs its binary on free local ports; `RelayServer`
(rootcanal_relay.py) serves the usual radio address and joins each client to it.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time

from bleboard.radio.errors import HCITransportError

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
    """Ports free on every interface now, where Root Canal binds them (held open together,
    so they differ)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
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
