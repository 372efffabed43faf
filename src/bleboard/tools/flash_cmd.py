"""`bleboard flash --board ID FIRMWARE`: check the file against the board, then flash it."""

import os
import sys

from bleboard.cli import CommandError, UsageError
from bleboard.tools import boards, firmware, flash

HELP = "Flash MicroPython/CircuitPython firmware onto a board (UF2 drive, esptool, nrfutil, west, dfu-util)."


def configure(parser):
    parser.add_argument("--board", required=True, help="board id from 'bleboard boards'")
    parser.add_argument("firmware", help="firmware file (.uf2, .bin, .hex, DFU .zip, .dfu)")
    parser.add_argument("--port", help="serial port for esptool / nrfutil DFU")
    parser.add_argument("--method", choices=sorted(boards.METHODS), help="override the method chosen from the board and file")
    parser.add_argument("--drive", help="bootloader/probe drive directory (default: search the mount points)")
    parser.add_argument("--build-dir", help="Zephyr build directory for west")
    parser.add_argument("--dry-run", action="store_true", help="print the exact command or copy, do nothing")


FIRMWARE_SUFFIXES = (".uf2", ".bin", ".hex", ".zip", ".dfu")


def _firmware_file(path):
    """The firmware argument must be a file; a directory (a build tree) gets the files it holds named."""
    if not os.path.isdir(path):
        return path
    inside = sorted(n for n in os.listdir(path) if n.lower().endswith(FIRMWARE_SUFFIXES))
    hint = f"; firmware files in it: {', '.join(inside[:5])}" if inside else ""
    raise UsageError(f"firmware {path!r} is a directory, not a firmware file{hint}")


def main(args):
    path = _firmware_file(args.firmware)
    try:
        board = boards.get(args.board)
        kind = firmware.check(path, board)
        method = flash.choose_method(board, kind, args.method)
        if args.port and not args.dry_run and method in ("esptool", "nrfutil", "adafruit-nrfutil") \
                and not os.path.exists(args.port):
            raise flash.DeviceMissing(f"--port {args.port}: no such serial port (is the board plugged in?)")
        p = flash.plan(board, path, kind, method, port=args.port, drive=args.drive,
                       build_dir=args.build_dir, dry_run=args.dry_run)
    except flash.DeviceMissing as e:
        raise CommandError(e) from None
    except (boards.UnknownBoard, firmware.FirmwareError, flash.FlashError) as e:
        raise UsageError(e) from None
    if args.dry_run:
        print(p.describe(os.path.abspath(path)))
        for note in (p.note, flash.missing_tool(p)):
            if note:
                print(f"note: {note}", file=sys.stderr)
        return 0
    print(f"flashing {board['name']} with {method}: {p.describe(path)}", file=sys.stderr)
    try:
        flash.run(p, path)
    except flash.FlashError as e:
        raise CommandError(e) from None
    print("done", file=sys.stderr)
    return 0
