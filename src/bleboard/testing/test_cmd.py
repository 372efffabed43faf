"""`bleboard test`: run multitest files (FILE.py with FILE.py.exp) on virtual boards, interpreters or boards.

The command line follows MicroPython's multitest runner, with `-i` naming
instance kinds (`-t` is accepted too) and options for the private radio.
Boards on serial ports (`port:DEV`, a0, u0, c0) are driven through their raw
REPL and mix with the other kinds.
"""

import ast
import importlib.util
import os
import signal
import sys

from bleboard.cli import UsageError

from bleboard.testing.instance import KINDS, InstanceError, InstanceSpec
from bleboard.testing.multitest import TIMEOUT, Runner, run_tests, summary, write_results
from bleboard.testing.radio import RadioError, latency_arg
from bleboard.testing.script import count_instances

HELP = "Run multitests (FILE.py + FILE.py.exp) on virtual boards, other interpreters or boards on serial ports."


def configure(parser):
    parser.add_argument(
        "-i",
        "--instance",
        "-t",
        "--test-instance",
        dest="instance",
        action="append",
        default=[],
        metavar="KIND",
        help="kind of instance 0, 1, ... in order (repeat): %s, each optionally followed by ,VAR=VAL,... "
        "(the child's whole environment; not for boards); missing ones are 'virtual'" % ", ".join(KINDS),
    )
    parser.add_argument(
        "-p", "--permutations", type=int, default=1, metavar="N", help="run on up to N orderings of the instances"
    )
    parser.add_argument("-s", "--show-output", action="store_true", help="print each test's output")
    parser.add_argument("-c", "--trace-output", action="store_true", help="print every line live, with a timestamp")
    parser.add_argument("-r", "--result-dir", metavar="DIR", help="write DIR/_results.json (not written otherwise)")
    parser.add_argument(
        "--radio",
        metavar="ADDR",
        help="use this radio (BLEBOARD_AIR form) instead of a private one (the one pty virtual boards are on)",
    )
    parser.add_argument(
        "--latency",
        type=latency_arg,
        default="board",
        metavar="board|fast|MS",
        help="link timing of the private radio (default: board)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        metavar="S",
        help="seconds an instance may stay silent before TIMEOUT (default: %g)" % TIMEOUT,
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="multitest files, or directories (their *.py with instanceN functions)"
    )


def find_multitests(directory):
    """The multitest files directly in `directory`, sorted by name."""
    found = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".py") and os.path.isfile(path):
            with open(path, errors="replace") as f:
                if count_instances(f.read()):
                    found.append(path)
    return found


class _ConsoleRunner(Runner):
    """The runner, plus a line saying why a test was skipped when an instance printed SKIP."""

    def run_and_report(self, path, specs):
        result = super().run_and_report(path, specs)
        if result.verdict == "skip" and result.skip_reason and not result.skip_directive:
            self.write("  skipped: %s\n" % result.skip_reason)
        return result


# what a plain interpreter lacks and a board (or a virtual board) has
BOARD_MODULES = ("machine", "micropython", "bluetooth", "aioble", "_bleio", "adafruit_ble")


def imported_modules(source):
    """Top-level names of every module the file imports (anywhere in it)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def check_plain_interpreters(specs, files):
    """`-i cpython` is plain Python: refuse a test that needs board modules it cannot import."""
    if not any(s.kind == "cpython" for s in specs):
        return
    for path in files:
        with open(path, errors="replace") as f:
            try:
                wanted = imported_modules(f.read())
            except SyntaxError:
                continue  # the run reports it
        missing = sorted(m for m in wanted & set(BOARD_MODULES) if importlib.util.find_spec(m) is None)
        if missing:
            raise UsageError("%s imports %s, which plain CPython (-i cpython) does not have; "
                             "use -i virtual, a virtual board that has them" % (path, ", ".join(missing)))


def _terminate(signum, frame):
    # Turn SIGTERM into an exception so the runner's cleanup ends every instance.
    raise SystemExit(128 + signum)


def main(args):
    try:
        specs = [InstanceSpec(text) for text in args.instance]
    except InstanceError as exc:
        print("bleboard test: %s" % exc, file=sys.stderr)
        return 2
    files = []
    for path in args.files:
        if os.path.isdir(path):
            found = find_multitests(path)
            if not found:
                print("bleboard test: %s: no multitest files in this directory" % path, file=sys.stderr)
                return 2
            files += found
        elif os.path.isfile(path):
            files.append(path)
        else:
            print("bleboard test: %s: no such file" % path, file=sys.stderr)
            return 2
    if args.permutations < 1:
        print("bleboard test: --permutations must be at least 1, got %d" % args.permutations, file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("bleboard test: --timeout must be positive, got %g" % args.timeout, file=sys.stderr)
        return 2
    check_plain_interpreters(specs, files)
    previous = signal.signal(signal.SIGTERM, _terminate)
    runner = _ConsoleRunner(args.radio, args.latency, args.timeout, show_output=args.show_output, trace=args.trace_output)
    try:
        results = run_tests(runner, files, specs, args.permutations)
    except (InstanceError, RadioError, ValueError) as exc:
        print("bleboard test: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bleboard test: interrupted", file=sys.stderr)
        return 130
    finally:
        runner.close()
        signal.signal(signal.SIGTERM, previous)
    sys.stdout.write(summary(results))
    if args.result_dir:
        write_results(args.result_dir, vars(args), results)
    return 1 if any(r.verdict == "fail" for r in results) else 0
