"""`bleboard flash --board ID FIRMWARE`: check the file against the board, then flash it."""

import os
import sys

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


def main(args):
    try:
        board = boards.get(args.board)
        kind = firmware.check(args.firmware, board)
        method = flash.choose_method(board, kind, args.method)
        if args.port and not args.dry_run and method in ("esptool", "nrfutil", "adafruit-nrfutil") \
                and not os.path.exists(args.port):
            raise flash.FlashError(f"--port {args.port}: no such serial port (is the board plugged in?)")
        p = flash.plan(board, args.firmware, kind, method, port=args.port, drive=args.drive,
                       build_dir=args.build_dir)
    except (boards.UnknownBoard, firmware.FirmwareError, flash.FlashError) as e:
        print(f"bleboard flash: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(p.describe(os.path.abspath(args.firmware)))
        hint = flash.missing_tool(p)
        if hint:
            print(f"note: {hint}", file=sys.stderr)
        return 0
    print(f"flashing {board['name']} with {method}: {p.describe(args.firmware)}", file=sys.stderr)
    try:
        flash.run(p, args.firmware)
    except flash.FlashError as e:
        print(f"bleboard flash: {e}", file=sys.stderr)
        return 1
    print("done", file=sys.stderr)
    return 0
