"""Choosing the HCI transport of a board: in-process radio, shared radio, or a real controller.

    await open_hci(radio=LocalRadio())           # a controller on an in-process air
    await open_hci("serial:/dev/ttyUSB0,1000000,rtscts")  # a real controller (any Bumble spec)
    await open_hci()                             # $BLEBOARD_HCI, else the shared radio

Without a spec, $BLEBOARD_HCI (a Bumble transport spec) picks a real
controller; otherwise the board joins the shared radio at `air_address()`
($BLEBOARD_AIR, else the per-user default radio, started on demand).

Every failure to open is an `HCITransportError` (an OSError); a malformed
spec is an `HCISpecError` (a ValueError).  Both name the spec.

The radio going away (server killed, USB unplugged, LocalRadio closed,
controller transport closed) shows up as `transport.source.terminated`, an
asyncio Future, becoming done; `on_transport_lost(transport, callback)`
calls `callback()` once on the loop when that happens.
"""

from __future__ import annotations

import asyncio
import os
from typing import Callable

from bumble.transport import open_transport
from bumble.transport.common import Transport, TransportSpecError

from bleboard.radio import default
from bleboard.radio.errors import HCISpecError, HCITransportError

ENV_HCI = "BLEBOARD_HCI"
OPEN_TIMEOUT_S = 10.0  # a TCP peer that never answers must not hang a board

# Bumble schemes that need a parameter after the colon.
_SCHEMES_WITH_PARAMETER = {
    "serial", "udp", "tcp-client", "tcp-server", "ws-client", "ws-server", "file",
    "usb", "pyusb", "unix", "unix-client", "unix-server",
}  # fmt: skip
_SCHEMES = _SCHEMES_WITH_PARAMETER | {"pty", "vhci", "hci-socket", "android-emulator", "android-netsim"}

__all__ = [
    "ENV_HCI",
    "GuardedTransport",
    "HCISpecError",
    "HCITransportError",
    "check_spec",
    "on_transport_lost",
    "open_hci",
    "report_transport_lost",
]


def check_spec(spec: str) -> str:
    """Return the Bumble transport spec if well formed, else raise HCISpecError naming it."""
    if not isinstance(spec, str) or not spec.strip():
        raise HCISpecError(f"HCI transport spec must be a non-empty string like 'usb:0', not {spec!r}")
    scheme, _, parameter = spec.strip().partition(":")
    if scheme not in _SCHEMES:
        raise HCISpecError(
            f"unknown HCI transport {scheme!r} in {spec!r}; use one of: {', '.join(sorted(_SCHEMES))}"
        )
    if scheme in _SCHEMES_WITH_PARAMETER and not parameter:
        raise HCISpecError(f"HCI transport spec {spec!r} needs a parameter, e.g. '{scheme}:...'")
    return spec.strip()


async def _open_bumble(spec: str, what: str) -> Transport:
    try:
        return await asyncio.wait_for(open_transport(spec), OPEN_TIMEOUT_S)
    except TransportSpecError as error:
        raise HCISpecError(f"bad HCI transport spec {spec!r}: {error}") from None
    except asyncio.TimeoutError:
        raise HCITransportError(f"cannot open {what} {spec!r}: no answer within {OPEN_TIMEOUT_S:.0f} s") from None
    except OSError as error:
        raise HCITransportError(f"cannot open {what} {spec!r}: {error}") from error
    except Exception as error:  # serial, usb and socket layers raise their own types
        raise HCITransportError(f"cannot open {what} {spec!r}: {type(error).__name__}: {error}") from error


async def open_hci(spec: str | None = None, *, radio=None) -> Transport:
    """Open the HCI transport a board's host talks to (see the module docstring)."""
    if radio is not None:
        return GuardedTransport(radio.attach())
    if spec is None:
        spec = os.environ.get(ENV_HCI) or None
        if spec is None:
            return GuardedTransport(await _open_shared_radio())
    return GuardedTransport(await _open_bumble(check_spec(spec), "HCI transport"))


def report_transport_lost(sink) -> None:
    """Tell a host its transport is gone, working around a Bumble Host race.

    Bumble's Host.on_transport_lost fails the pending command's future even
    when it is already done (answered or timed out, its waiter not yet
    resumed), raising InvalidStateError and never emitting 'flush'.  A done
    future needs no failing: drop it first, then report.
    """
    handler = getattr(sink, "on_transport_lost", None)
    if handler is None:
        return
    pending = getattr(sink, "pending_response", None)
    if pending is not None and pending.done():
        sink.pending_response = None
    handler()


class _GuardedSource:
    """Between a transport's source and the host: packets pass, loss is reported once,
    and only when the other side went away (not when the owner closed the transport)."""

    def __init__(self, source):
        self._source = source
        self.terminated = source.terminated
        self.sink = None
        self.closing = False
        self._reported = False

    @property
    def metadata(self):
        return getattr(self._source, "metadata", {})

    def set_packet_sink(self, sink) -> None:
        self.sink = sink
        self._source.set_packet_sink(self)

    def on_packet(self, packet: bytes) -> None:
        if self.sink is not None:
            self.sink.on_packet(packet)

    def on_transport_lost(self) -> None:
        if self.closing or self._reported or self.sink is None:
            return
        self._reported = True
        report_transport_lost(self.sink)

    async def wait_for_termination(self) -> None:
        await self.terminated

    def close(self) -> None:
        self.closing = True


class GuardedTransport(Transport):
    """What open_hci returns: the opened transport, with the loss reporting above.

    `inner` is the transport opened (e.g. a LocalTransport, whose `controller`
    is also reachable here as `controller`)."""

    def __init__(self, inner: Transport):
        self.inner = inner
        super().__init__(_GuardedSource(inner.source), inner.sink)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def close(self) -> None:
        self.source.close()
        await self.inner.close()


async def _open_shared_radio() -> Transport:
    address = default.air_address()
    spec = default.bumble_spec(address)
    if not default.is_default_address():
        try:
            return await _open_bumble(spec, "radio")
        except HCITransportError:
            raise HCITransportError(
                f"{default.ENV_AIR}={address} does not answer; start it with "
                f"'bleboard air --listen {address}' or unset {default.ENV_AIR} to use the default radio"
            ) from None
    # The default radio: start it if needed.  If it was just leaving (idle
    # exit) when we connected, the second round starts a fresh one.
    for attempt in (1, 2):
        await asyncio.to_thread(default.ensure_default_radio)
        try:
            return await _open_bumble(spec, "default radio")
        except HCITransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def on_transport_lost(transport: Transport, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback()` once, on the loop, when the transport's source terminates.

    Returns a function that cancels the watch (e.g. when the host closes the
    transport itself and does not want to hear about it).
    """
    terminated: asyncio.Future = transport.source.terminated

    def done(_future) -> None:
        callback()

    terminated.add_done_callback(done)
    return lambda: terminated.remove_done_callback(done)
