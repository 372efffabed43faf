"""`bleboard deploy --port PORT`: copy the frozen bundle onto a board, only what changed."""

import sys

from bleboard.tools import deploy, freeze

HELP = "Copy the 'bleboard freeze' bundle onto a board's filesystem with mpremote (only changed files)."


def configure(parser):
    parser.add_argument("--port", required=True, help="the board's serial port (e.g. /dev/ttyACM0, or a 'bleboard board' pty)")
    parser.add_argument(
        "--bundle", default="build/bundle", help="bundle directory from 'bleboard freeze' (default: build/bundle)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be copied or removed")


def _log(msg):
    """Progress goes to stderr; stdout carries only the summary."""
    print(msg, file=sys.stderr)


def main(args):
    try:
        freeze.load_index(args.bundle)
        written, removed, unchanged = deploy.run(args.port, args.bundle, dry_run=args.dry_run, log=_log)
    except (deploy.DeployError, freeze.FreezeError) as e:
        print(f"bleboard deploy: {e}", file=sys.stderr)
        return 1
    verb = "would copy" if args.dry_run else "copied"
    for rel in written if args.dry_run else ():
        print(f"  /{rel}")
    print(f"{verb} {len(written)} file(s), removed {len(removed)}, {unchanged} unchanged")
    return 0
