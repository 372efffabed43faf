"""`bleboard board`: a virtual MicroPython board whose REPL is on a pty (use it like /dev/ttyACM0)."""

import os
import shutil
import sys
import tempfile

HELP = "Start a virtual board serving MicroPython's REPL on a pty; prints the device path (for mpremote)."


def configure(parser):
    parser.add_argument("--fs", metavar="DIR", help="the board's filesystem directory (default: a fresh temporary one)")
    parser.add_argument("--hci", metavar="SPEC", help="use a real controller (transport spec); sets BLEBOARD_HCI")


def _stop(signum, frame):
    raise KeyboardInterrupt  # the board's way out: unwinds the REPL and removes a temporary filesystem


def main(args):
    import signal

    from bleboard.tools import pty_board

    signal.signal(signal.SIGTERM, _stop)
    if args.hci:
        os.environ["BLEBOARD_HCI"] = args.hci
    tmp = None
    fs = args.fs
    if fs is None:
        tmp = fs = tempfile.mkdtemp(prefix="bleboard-fs-")
    elif not os.path.isdir(fs):
        try:
            os.makedirs(fs)
        except OSError as e:
            print(f"bleboard board: --fs {fs}: {e.strerror}", file=sys.stderr)
            return 2

    def announce(path):
        print(path, flush=True)  # the first line of stdout is the device path, for scripts
        print(f"virtual board on {path} (filesystem {os.path.abspath(fs)}); "
              f"try: mpremote connect {path} repl", file=sys.stderr, flush=True)

    try:
        pty_board.serve(fs, announce)
    except KeyboardInterrupt:
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
