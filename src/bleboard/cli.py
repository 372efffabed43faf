"""The `bleboard` command: one subcommand per module, imported only when chosen.

Keeping imports lazy matters: `bleboard run` must be on the air within two
seconds, so `bleboard boards` must not pay for Bumble and vice versa.
Each subcommand module defines `HELP`, `configure(parser)` and `main(args) -> int`.
"""

import argparse
import importlib
import sys

# name -> module implementing it
COMMANDS = {
    "run": "bleboard.runtime.run_cmd",
    "demo": "bleboard.demo",
    "air": "bleboard.radio.air_cmd",
    "test": "bleboard.testing.test_cmd",
    "boards": "bleboard.tools.boards_cmd",
    "flash": "bleboard.tools.flash_cmd",
    "freeze": "bleboard.tools.freeze_cmd",
    "deploy": "bleboard.tools.deploy_cmd",
    "board": "bleboard.tools.board_cmd",
    "repl": "bleboard.tools.repl_cmd",
}


def _usage() -> str:
    names = ", ".join(COMMANDS)
    return f"usage: bleboard COMMAND [ARGS]\n\ncommands: {names}\n\n'bleboard COMMAND --help' for details."


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from bleboard import __version__

        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"bleboard: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name])
    parser = argparse.ArgumentParser(prog=f"bleboard {name}", description=module.HELP)
    module.configure(parser)
    args = parser.parse_args(rest)
    return module.main(args) or 0


if __name__ == "__main__":
    sys.exit(main())
