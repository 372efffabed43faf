"""`bleboard repl [--port PORT]`: a terminal on a board's REPL (USB serial), or on a new virtual board.

Keys go to the board unchanged (Ctrl-C, Ctrl-D, Ctrl-E work as on the board);
Ctrl-] leaves. A port that goes away ends the session with a clear message.
"""

import contextlib
import os
import select
import sys
import termios
import threading
import tty

HELP = "Open a terminal on a board's REPL over USB serial (--port), or on a fresh virtual board (default)."
EXIT_KEY = 0x1D  # Ctrl-]


def configure(parser):
    parser.add_argument("--port", help="serial port of a real board (e.g. /dev/ttyACM0); without it a virtual board")
    parser.add_argument("--virtual", action="store_true", help="start a virtual board ('bleboard board') and attach")
    parser.add_argument("--fs", metavar="DIR", help="with --virtual: the virtual board's filesystem directory")
    parser.add_argument("--baud", type=int, default=115200, help="baud rate (USB CDC ignores it; default 115200)")


class Disconnected(RuntimeError):
    """The board's port went away during the session."""


@contextlib.contextmanager
def _raw_terminal(fd):
    """Local keystrokes unprocessed (Ctrl-C reaches the board, not us), restored afterwards."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def attach(port, stdin_fd=0, out=None, baud=115200, hello="", greet=b""):
    """Shuttle bytes between the terminal and the port until Ctrl-], end of input, or the port vanishes.

    hello is printed once the terminal is raw (keys typed after it reach the board);
    greet is sent to the board first (Ctrl-B makes a virtual board show its banner).
    """
    import serial

    out = out or sys.stdout.buffer
    try:
        ser = serial.serial_for_url(port, baudrate=baud, timeout=0.1)
    except (serial.SerialException, OSError) as e:
        raise Disconnected(f"cannot open {port}: {e}") from None
    stop = threading.Event()
    failure = []

    def board_to_terminal():
        while not stop.is_set():
            try:
                data = ser.read(ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as e:
                failure.append(e)
                break
            if data:
                out.write(data)
                out.flush()
        stop.set()

    reader = threading.Thread(target=board_to_terminal, name="repl-reader", daemon=True)
    try:
        with _raw_terminal(stdin_fd):
            reader.start()  # only now: the board's first output must meet a raw terminal
            if hello:
                sys.stderr.write(hello + "\r\n")
                sys.stderr.flush()
            if greet:
                ser.write(greet)
            while not stop.is_set():
                ready, _, _ = select.select([stdin_fd], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(stdin_fd, 1024)
                if not data:
                    break
                if EXIT_KEY in data:
                    data = data[: data.index(EXIT_KEY)]
                    stop.set()
                try:
                    if data:
                        ser.write(data)
                except (serial.SerialException, OSError) as e:
                    failure.append(e)
                    break
    finally:
        stop.set()
        if reader.is_alive():
            reader.join(2)
        try:
            ser.close()
        except (serial.SerialException, OSError):
            pass
    if failure:
        raise Disconnected(f"{port} went away ({failure[0]})")


def main(args):
    import signal

    # SIGTERM (a closed terminal, a test ending) unwinds normally, so a virtual board we started stops too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.port and args.virtual:
        print("bleboard repl: give --port or --virtual, not both", file=sys.stderr)
        return 2
    try:
        if args.port:
            if not os.path.exists(args.port) and "://" not in args.port:
                print(f"bleboard repl: --port {args.port}: no such serial port (is the board plugged in?)", file=sys.stderr)
                return 1
            attach(args.port, baud=args.baud, hello=f"connected to {args.port}; Ctrl-] to leave")
        else:
            from bleboard.tools import pty_board

            with pty_board.running_board(fs=args.fs) as (path, _proc):
                attach(path, hello=f"virtual board on {path}; Ctrl-] to leave", greet=b"\x02")
    except Disconnected as e:
        print(f"\r\nbleboard repl: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # the virtual board did not start
        print(f"bleboard repl: {e}", file=sys.stderr)
        return 1
    print("\r", file=sys.stderr)
    return 0
