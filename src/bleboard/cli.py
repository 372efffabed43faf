"""The `bleboard` command: one subcommand per module, imported only when chosen.

Keeping imports lazy matters: `bleboard run` must be on the air within two
seconds, so `bleboard boards` must not pay for Bumble and vice versa.
Each subcommand module defines `HELP`, `configure(parser)` and `main(args) -> int`.

Errors follow one rule for every command (docs/cli.md): one line on stderr,
`bleboard CMD: what is wrong`, and exit status 2 for a usage error (bad
arguments or settings), 1 for a failure (device missing, timeout), 130 when
interrupted with Ctrl-C. A command reports with `raise CommandError(...)` or
`raise UsageError(...)`; only real bugs end in a traceback.
"""

import argparse
import importlib
import os
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
    "firmware": "bleboard.tools.firmware_cmd",
}

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C'd program


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""

    status = EXIT_FAILURE


class UsageError(CommandError):
    """Bad arguments or settings; printed as one line, exit status 2."""

    status = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse with our error format: one line naming the command, then exit 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def summary(help_text):
    """The first sentence of a command's HELP, for the command list."""
    text = " ".join(help_text.split())
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text


def _usage() -> str:
    rows = []
    for name, module_name in COMMANDS.items():
        try:
            text = summary(importlib.import_module(module_name).HELP)
        except ImportError as e:  # an optional dependency missing must not hide the other commands
            text = f"(unavailable: {e})"
        rows.append((name, text))
    options = [("-h, --help", "show this list"), ("--version", "print the version")]
    width = max(len(name) for name, _ in rows + options)
    lines = ["usage: bleboard COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, text in rows]
    lines += ["", "options:"] + [f"  {name:<{width}}  {text}" for name, text in options]
    lines += ["", "'bleboard COMMAND --help' shows a command's options."]
    return "\n".join(lines)


def _report(name, message):
    """One line on stderr; a closed stderr is not worth a second error."""
    try:
        print(f"bleboard {name}: {message}" if name else f"bleboard: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _silence_stdout():
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = None
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(_usage(), file=sys.stdout if argv else sys.stderr)
            return 0 if argv else EXIT_USAGE
        if argv[0] == "--version":
            from bleboard import __version__

            print(f"bleboard {__version__}")
            return 0
        if argv[0] not in COMMANDS:
            if argv[0].startswith("-"):
                raise UsageError(f"unknown option {argv[0]!r} (see 'bleboard --help')")
            raise UsageError(f"unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}")
        name, rest = argv[0], argv[1:]
        module = importlib.import_module(COMMANDS[name])
        parser = _Parser(prog=f"bleboard {name}", description=module.HELP)
        module.configure(parser)
        args = parser.parse_args(rest)
        return module.main(args) or 0
    except CommandError as e:
        _report(name, e)
        return e.status
    except KeyboardInterrupt:
        _report(name, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`bleboard boards | head`): nothing more to say to anyone
        _silence_stdout()
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
