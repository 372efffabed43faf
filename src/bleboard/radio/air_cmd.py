"""`bleboard air`: serve one virtual radio to many processes (one controller per connection)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import selectors
import signal
import stat
import sys
import threading

HELP = (
    "Serve a shared virtual BLE radio. Each process that connects (H4 over the socket, e.g. "
    "Bumble transport unix:PATH or tcp-client:HOST:PORT) gets its own controller with a unique "
    "public address; all of them hear each other. With --pty, join a running radio (or the default "
    "one) with controllers behind pseudo-terminals for H4 hosts such as MicroPython's unix port: "
    "prints MICROPYBTUART=/dev/pts/N per controller and stays up until signalled or its stdin pipe closes."
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


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"--pty takes a number of controllers 1..64, not {text!r}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pty",
        type=_count,
        nargs="?",
        const=1,
        default=None,
        metavar="N",
        help="do not serve: put N (default 1) controllers of the radio at --listen (default: BLEBOARD_AIR, "
        "else the default radio, started if needed) behind ptys and print MICROPYBTUART=/dev/pts/N for each",
    )
    parser.add_argument(
        "--snoop",
        metavar="FILE",
        help="with --pty: record each pty host's HCI exchange in a btsnoop file (FILE, or FILE.1, FILE.2... for N > 1)",
    )
    parser.add_argument(
        "--listen",
        metavar="ADDRESS",
        help="unix:PATH or tcp:HOST:PORT (default: the per-user default radio, see BLEBOARD_AIR)",
    )
    parser.add_argument(
        "--latency",
        type=_latency,
        default="board",
        help="connection event timing: board (events at the connection interval, default), fast (no delay) or ms",
    )
    parser.add_argument(
        "--idle-exit",
        type=_seconds,
        metavar="SECONDS",
        default=None,
        help="exit when no client has been connected for this long (default: never)",
    )
    parser.add_argument(
        "--engine",
        choices=("bleboard", "rootcanal"),
        default="bleboard",
        help="which controllers make the air: bleboard's own (default) or Android's Root Canal "
        "(pip install rootcanal==1.10.0), started on free local ports; boards join it at the same address",
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
    if args.pty is not None:
        return _run_ptys(args.listen, args.pty, args.snoop)
    address = args.listen
    if address is None:
        from bleboard.radio.default import default_socket_path

        address = "unix:" + default_socket_path(create=True)
    if args.engine == "rootcanal":
        return _serve_root_canal(address, args)
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


def _serve_root_canal(address: str, args) -> int:
    """`--engine rootcanal`: Root Canal behind the radio address, both stopped together."""
    from bleboard.radio.errors import HCITransportError
    from bleboard.radio.rootcanal import RootCanal
    from bleboard.radio.rootcanal_relay import RelayServer
    from bleboard.radio.server import ServerBusyError

    if args.latency != "board":
        print("bleboard air: --engine rootcanal keeps Root Canal's own timing (no --latency)", file=sys.stderr)
        return 2
    root_canal = RootCanal(verbose=args.verbose)
    try:
        server = RelayServer(address, root_canal, idle_exit=args.idle_exit)
        root_canal.start()
    except ValueError as error:
        print(f"bleboard air: {error}", file=sys.stderr)
        return 2
    except HCITransportError as error:
        print(f"bleboard air: {error}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(server))
    except ServerBusyError as error:
        if args.auto:
            return 0
        print(f"bleboard air: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"bleboard air: cannot listen on {address}: {error.strerror or error}", file=sys.stderr)
        return 1
    finally:
        root_canal.stop()


def _run_ptys(radio: str | None, count: int, snoop: str | None = None) -> int:
    """`--pty`: controllers of a radio behind ptys, up until a signal, stdin EOF or the radio's end."""
    from bleboard.radio.errors import HCISpecError, HCITransportError
    from bleboard.radio.pty_controller import MICROPYBTUART, open_pty_controller

    controllers = []
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, lambda *_: None) for signum in signals}
    old_wakeup = signal.set_wakeup_fd(wake_w)  # a signal makes the select below return
    try:
        for i in range(count):
            path = None if snoop is None else snoop if count == 1 else f"{snoop}.{i + 1}"
            controllers.append(open_pty_controller(radio, snoop=path))
        for controller in controllers:
            print(f"{MICROPYBTUART}={controller.path}", flush=True)
            logging.getLogger(__name__).info(
                "%s is controller %s on %s", controller.path, controller.address, controller.radio
            )
            threading.Thread(target=_notify_end, args=(controller, wake_w), daemon=True).start()
        with selectors.DefaultSelector() as selector:
            selector.register(wake_r, selectors.EVENT_READ)
            if _is_pipe(sys.stdin):  # a parent holding our stdin pipe stops us by closing it
                selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fd == wake_r for key, _ in ready) or not os.read(sys.stdin.fileno(), 4096):
                    break
        ended = [c for c in controllers if c.closed]
        for controller in ended:
            print(f"bleboard air: {controller.path}: {controller.reason}", file=sys.stderr)
        return 1 if ended else 0
    except (HCISpecError, HCITransportError) as error:
        print(f"bleboard air: {error}", file=sys.stderr)
        return 2 if isinstance(error, HCISpecError) else 1
    except OSError as error:  # the snoop file
        print(f"bleboard air: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return 1
    finally:
        for controller in controllers:
            controller.close()
        signal.set_wakeup_fd(old_wakeup)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(wake_r)
        os.close(wake_w)


def _notify_end(controller, wake_fd: int) -> None:
    controller.wait()
    try:
        os.write(wake_fd, b"e")
    except OSError:
        pass


def _is_pipe(stream) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
