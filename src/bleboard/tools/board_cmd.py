"""`bleboard board`: a virtual MicroPython board whose REPL is on a pty (use it like /dev/ttyACM0)."""

import os
import shutil
import sys
import tempfile

from bleboard.cli import UsageError

HELP = "Start a virtual board serving MicroPython's REPL on a pty; prints the device path (for mpremote)."


def configure(parser):
    parser.add_argument("--fs", metavar="DIR", help="the board's filesystem directory (default: a fresh temporary one)")
    parser.add_argument("--hci", metavar="SPEC", help="use a real controller (transport spec); sets BLEBOARD_HCI")


class _Stopped(KeyboardInterrupt):
    """SIGTERM: a requested stop (status 0), unlike Ctrl-C (status 130)."""


def _stop(signum, frame):
    raise _Stopped  # the board's way out: unwinds the REPL and removes a temporary filesystem


def main(args):
    import signal

    from bleboard import preflight
    from bleboard.tools import pty_board

    preflight.check_address(os.environ.get("BLEBOARD_ADDRESS"))
    if args.hci:
        preflight.check_hci(args.hci, "--hci")
    else:
        preflight.check_hci(os.environ.get("BLEBOARD_HCI"))
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
            raise UsageError(f"--fs {fs}: {e.strerror}") from None

    def announce(path):
        print(path, flush=True)  # the first line of stdout is the device path, for scripts
        print(f"virtual board on {path} (filesystem {os.path.abspath(fs)}); "
              f"try: mpremote connect {path} repl", file=sys.stderr, flush=True)

    try:
        pty_board.serve(fs, announce)
    except _Stopped:
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
