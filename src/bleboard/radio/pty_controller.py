"""A controller on the shared virtual radio behind a pseudo-terminal, for any H4 host.

Hosts that drive a UART HCI controller (MicroPython's unix port with NimBLE or
BTstack, which opens the tty named by $MICROPYBTUART; BTstack's POSIX ports;
Zephyr native_sim; BlueZ `btattach`) open the pty as their serial port and
join the same air as `bleboard run` boards.  Baud rate and RTS/CTS do not
matter on a pty: the host may set any.

In a program (thread-safe; one relay thread per controller)::

    from bleboard.radio.pty_controller import open_pty_controller

    with open_pty_controller() as controller:  # the default radio, started if needed
        env = dict(os.environ, **controller.env())  # {"MICROPYBTUART": "/dev/pts/N"}
        subprocess.run(["micropython", "prog.py"], env=env, timeout=60)

    open_pty_controller("unix:/run/air.sock")  # a radio named like BLEBOARD_AIR
    controller.path      # "/dev/pts/N", the host's serial port
    controller.address   # "F0:..", the controller's public address on the air
    controller.wait(t)   # True once the relay ended (closed, or the radio went away)
    open_pty_controller(snoop="host.btsnoop")  # the H4 exchange, for Wireshark or a test
    controller.close()   # the host's tty hangs up; peers see their connections time out

From a shell, `bleboard air --pty [N] [--snoop FILE]` does the same for an already running
radio (or the default one), prints `MICROPYBTUART=/dev/pts/N` per controller
and stays up until it is signalled, its stdin pipe closes or the radio stops.

Why a relay: the shared radio lives in the `bleboard air` server process and a
process joins it as an H4 client of its socket.  So the pty is relayed to the
server as one more client, and the controller behind it is the server's own
VirtualController, the one every board gets.  Host-to-controller bytes are
parsed into H4 packets first, so line noise (a host resetting) costs only the
bad bytes, as on a UART, instead of the server dropping the client.
"""

from __future__ import annotations

import errno
import logging
import os
import selectors
import socket
import struct
import threading
import tty

from bumble.snoop import BtSnooper, Snooper
from bumble.transport.common import PacketParser

from bleboard.radio import default
from bleboard.radio.errors import HCITransportError

logger = logging.getLogger(__name__)

MICROPYBTUART = "MICROPYBTUART"  # the variable MicroPython's unix port reads its HCI UART from
OPEN_TIMEOUT_S = 5.0  # to reach the radio and have its controller answer Read BD_ADDR
CLOSE_TIMEOUT_S = 5.0  # for the relay thread to finish
MAX_PENDING = 1 << 20  # bytes kept for a host that does not read (a UART would lose them)

_HCI_READ_BD_ADDR = 0x1009
_H4_EVENT = 0x04
_COMMAND_COMPLETE = 0x0E


def _connect(address: str, timeout: float) -> socket.socket:
    kind, target = default.parse_air_address(address)
    try:
        if kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(target)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(target, timeout=timeout)
    except OSError as error:
        raise HCITransportError(f"radio {address} does not answer: {error.strerror or error}") from None
    return sock


class _Packets:
    """A parser sink that keeps the packets (not a list: the parser tests its sink for truth)."""

    def __init__(self):
        self.items = []

    def on_packet(self, packet: bytes) -> None:
        self.items.append(bytes(packet))


def _read_bd_addr(sock: socket.socket, address: str) -> str:
    """Ask the new controller its public address; this also makes the server create it now."""
    packets = _Packets()
    parser = PacketParser()
    parser.set_packet_sink(packets)
    sock.sendall(struct.pack("<BHB", 0x01, _HCI_READ_BD_ADDR, 0))
    while True:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            raise HCITransportError(f"radio {address}: its controller did not answer Read BD_ADDR") from None
        if not data:
            raise HCITransportError(f"radio {address} closed the connection")
        parser.feed_data(data)
        for packet in packets.items:
            # 04 0E len ncmd opcode(2) status bd_addr(6, least significant octet first)
            if packet[0] == _H4_EVENT and packet[1] == _COMMAND_COMPLETE and len(packet) >= 13:
                if struct.unpack_from("<H", packet, 4)[0] == _HCI_READ_BD_ADDR:
                    if packet[6] != 0:
                        raise HCITransportError(f"radio {address}: Read BD_ADDR failed, status 0x{packet[6]:02X}")
                    return ":".join(f"{b:02X}" for b in reversed(packet[7:13]))
        packets.items.clear()


class PtyController:
    """A controller on a shared radio, its H4 stream on a fresh pty. Use open_pty_controller()."""

    def __init__(self, radio: str, sock: socket.socket, address: str, snoop: str | None = None):
        self.radio = radio
        self.address = address
        self.reason: str | None = None  # why the relay ended
        self._snooper = self._air_parser = None
        if snoop is not None:
            self._open_snoop(snoop)  # first: a bad path fails before any pty is made
        self._sock = sock
        self._sock.setblocking(False)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass untouched, as on a UART
        self.path = os.ttyname(self._slave)
        os.set_blocking(self._master, False)
        self._wake_r, self._wake_w = os.pipe()
        self._to_host = bytearray()
        self._to_air = bytearray()
        self._parser = PacketParser()
        self._parser.set_packet_sink(self)
        self._ended = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"pty-controller {self.path}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"PtyController({self.path!r}, {self.address}, radio={self.radio!r})"

    # ---------------------------------------------------------------- public
    @property
    def closed(self) -> bool:
        return self._ended.is_set()

    def env(self) -> dict:
        """The environment a MicroPython unix build needs to use this controller."""
        return {MICROPYBTUART: self.path}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the relay ends (close(), or the radio went away); False on timeout."""
        return self._ended.wait(timeout)

    def close(self) -> None:
        """Take the controller off the air and hang up the pty. Idempotent."""
        if self._thread.is_alive():
            self._closing = True
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
            if threading.current_thread() is not self._thread:
                self._thread.join(CLOSE_TIMEOUT_S)

    def __enter__(self) -> PtyController:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- relay thread
    def on_packet(self, packet: bytes) -> None:
        """The parser's sink: one whole H4 packet from the host, for the controller."""
        if self._snooper is not None:
            self._snooper.snoop(bytes(packet), Snooper.Direction.HOST_TO_CONTROLLER)
        self._to_air += packet

    def _open_snoop(self, path: str) -> None:
        from bleboard.radio.snoop import _FlushingFile

        self._snoop_file = _FlushingFile(path)
        self._snooper = BtSnooper(self._snoop_file)
        # The server sends whole packets, but a read may end mid-packet: frame them again.
        self._air_parser = PacketParser()
        self._air_parser.set_packet_sink(_ToHostSnoop(self._snooper))

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            selector.register(self._master, selectors.EVENT_READ, "host")
            selector.register(self._sock, selectors.EVENT_READ, "air")
            while self.reason is None:
                self._want_writes(selector)
                for key, events in selector.select():
                    if key.data == "wake" and self._closing:
                        self.reason = "closed"
                    elif key.data == "host":
                        self._host_ready(events)
                    elif key.data == "air":
                        self._air_ready(events)
        except Exception as error:  # a relay must end, not hang its host, whatever went wrong
            logger.exception("%s: relay failed", self.path)
            self.reason = f"relay failed: {error}"
        finally:
            selector.close()
            self._finish()

    def _want_writes(self, selector) -> None:
        selector.modify(self._master, selectors.EVENT_READ | (selectors.EVENT_WRITE if self._to_host else 0), "host")
        selector.modify(self._sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if self._to_air else 0), "air")

    def _host_ready(self, events: int) -> None:
        if events & selectors.EVENT_READ:
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                data = None
            except OSError as error:
                if error.errno != errno.EIO:  # EIO: no host has the tty open right now
                    raise
                data = None
            if data:
                self._from_host(data)
        if events & selectors.EVENT_WRITE and self._to_host:
            try:
                del self._to_host[: os.write(self._master, self._to_host)]
            except BlockingIOError:
                pass

    def _from_host(self, data: bytes) -> None:
        # Byte by byte, so garbage costs only the bad bytes (a UART controller resyncs the same way).
        for i in range(len(data)):
            try:
                self._parser.feed_data(data[i : i + 1])
            except Exception as error:
                logger.warning("%s: bad H4 byte 0x%02x from the host (%s); skipped", self.path, data[i], error)
                self._parser.reset()
        self._flush_air()

    def _air_ready(self, events: int) -> None:
        if events & selectors.EVENT_READ:
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                data = None
            except OSError as error:
                self.reason = f"radio connection lost: {error.strerror or error}"
                return
            if data == b"":
                self.reason = "the radio went away"
                return
            if data:
                if self._air_parser is not None:
                    self._air_parser.feed_data(data)
                if len(self._to_host) + len(data) > MAX_PENDING:
                    logger.warning("%s: the host is not reading; %d bytes lost", self.path, len(data))
                else:
                    self._to_host += data
                    try:
                        del self._to_host[: os.write(self._master, self._to_host)]
                    except BlockingIOError:
                        pass
        if events & selectors.EVENT_WRITE:
            self._flush_air()

    def _flush_air(self) -> None:
        if not self._to_air:
            return
        try:
            del self._to_air[: self._sock.send(self._to_air)]
        except BlockingIOError:
            pass
        except OSError as error:
            self.reason = f"radio connection lost: {error.strerror or error}"

    def _finish(self) -> None:
        for close in (self._sock.close, lambda: os.close(self._master), lambda: os.close(self._slave)):
            try:
                close()
            except OSError:
                pass
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._snooper is not None:
            self._snoop_file.close()
        logger.info("%s: controller %s off the air (%s)", self.path, self.address, self.reason)
        self._ended.set()


class _ToHostSnoop:
    def __init__(self, snooper):
        self._snooper = snooper

    def on_packet(self, packet: bytes) -> None:
        self._snooper.snoop(bytes(packet), Snooper.Direction.CONTROLLER_TO_HOST)


def open_pty_controller(
    radio: str | None = None, *, timeout: float = OPEN_TIMEOUT_S, snoop: str | None = None
) -> PtyController:
    """A new controller on the shared radio `radio`, behind a fresh pty.

    `radio` is a radio address as in BLEBOARD_AIR (`unix:PATH`, `tcp:HOST:PORT`);
    None means this process's radio: $BLEBOARD_AIR, else the per-user default
    radio, started if it is not running.  Raises HCISpecError (a ValueError) for
    a malformed address and HCITransportError (an OSError) when the radio does
    not answer within `timeout` seconds.  `snoop` names a btsnoop file (H4,
    Wireshark reads it) that records the host's exchange with the controller.
    """
    if radio is None:
        radio = default.ensure_default_radio(timeout)
    elif not isinstance(radio, str):
        raise TypeError(f"radio must be an address string like 'unix:PATH', not {type(radio).__name__}")
    sock = _connect(radio, timeout)
    try:
        address = _read_bd_addr(sock, radio)
        return PtyController(radio, sock, address, snoop)
    except BaseException:
        sock.close()
        raise
