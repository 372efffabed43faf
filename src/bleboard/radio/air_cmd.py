"""`bleboard air`: serve one virtual radio to many processes (one controller per connection)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

HELP = (
    "Serve a shared virtual BLE radio. Each process that connects (H4 over the socket, e.g. "
    "Bumble transport unix:PATH or tcp-client:HOST:PORT) gets its own controller with a unique "
    "public address; all of them hear each other."
)


def _latency(text: str):
    from bleboard.radio.link import parse_latency

    try:
        parse_latency(text)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"--idle-exit must be a number of seconds >= 0, not {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        metavar="ADDRESS",
        help="unix:PATH or tcp:HOST:PORT (default: the per-user default radio, see BLEBOARD_AIR)",
    )
    parser.add_argument(
        "--latency",
        type=_latency,
        default="board",
        help="connection event timing: board (7.5 ms events, default), fast (no delay) or milliseconds",
    )
    parser.add_argument(
        "--idle-exit",
        type=_seconds,
        metavar="SECONDS",
        default=None,
        help="exit when no client has been connected for this long (default: never)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log clients joining and leaving")
    # Used by ensure_default_radio(): lose the start-up race quietly.
    parser.add_argument("--auto", action="store_true", help=argparse.SUPPRESS)


def main(args) -> int:
    from bleboard.radio.server import AirServer, ServerBusyError

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="bleboard air: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("bumble").setLevel(logging.CRITICAL)
    address = args.listen
    if address is None:
        from bleboard.radio.default import default_socket_path

        address = "unix:" + default_socket_path(create=True)
    try:
        server = AirServer(address, latency=args.latency, idle_exit=args.idle_exit)
    except ValueError as error:
        print(f"bleboard air: {error}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(server))
    except ServerBusyError as error:
        if args.auto:
            return 0  # another server won the race; the client connects to it
        print(f"bleboard air: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"bleboard air: cannot listen on {address}: {error.strerror or error}", file=sys.stderr)
        return 1


async def _serve(server) -> int:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, server.stop)
    await server.start()
    await server.serve()
    return 0
