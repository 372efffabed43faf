"""`bleboard run`: run a MicroPython program on a virtual board, in this process.

It behaves like `python -c` / `python FILE` / `python -` for a test runner:
same cwd, sys.argv and sys.path[0] rules, stdin passed through, PYTHONPATH
first, the program's exit status, tracebacks on stderr, nothing else printed.
On top of that the program sees the board modules (`micropython`, `machine`,
`bluetooth`, `aioble`, `_bleio`, `time.sleep_ms` ...), its irq handlers run on
the main thread, and the process ends when the program does (threads do not
keep it alive), promptly on SIGTERM (status 143).

Output: stdout is line buffered (a board's console shows each line as it is
printed); with -u or PYTHONUNBUFFERED it is unbuffered.

Radio options are passed to the port through the environment:
BLEBOARD_HCI (--hci), BLEBOARD_SNOOP (--snoop), BLEBOARD_LATENCY (--latency).
Start-up stays lean: nothing of the radio is imported before the program
imports `bluetooth`.
"""

import argparse
import logging
import os
import signal
import sys
import types

HELP = "Run a MicroPython program on a virtual board (like `python -c`, `python FILE`, `python -`)."

log = logging.getLogger("bleboard.runtime")


def _latency(value):
    if value in ("board", "fast"):
        return value
    try:
        ms = float(value)
    except ValueError:
        ms = -1.0
    if not ms >= 0:
        raise argparse.ArgumentTypeError("--latency must be 'board', 'fast' or milliseconds >= 0, not %r" % value)
    return value


def configure(parser):
    parser.usage = "bleboard run [options] (FILE | -c CODE | -) [args ...]"
    parser.epilog = (
        "Like python, everything after FILE, '-' or -c CODE is passed to the program in sys.argv. "
        "Environment: BLEBOARD_HCI, BLEBOARD_SNOOP, BLEBOARD_LATENCY (radio), BLEBOARD_VERBOSE, "
        "PYTHONPATH (searched before the board modules), PYTHONUNBUFFERED, "
        "BLEBOARD_RESET=exit (machine.reset() exits with status 80+cause instead of restarting)."
    )
    parser.add_argument(
        "-c", dest="command", nargs=argparse.REMAINDER, metavar="CODE",
        help="program passed in as a string (ends the option list)",
    )
    parser.add_argument("--hci", metavar="SPEC", help="use a real controller (transport spec); sets BLEBOARD_HCI")
    parser.add_argument("--snoop", metavar="FILE", help="write a btsnoop capture; sets BLEBOARD_SNOOP")
    parser.add_argument(
        "--latency", metavar="board|fast|MS", type=_latency,
        help="link timing per connection event; sets BLEBOARD_LATENCY",
    )
    parser.add_argument(
        "--board", metavar="ID",
        help="play that board's BLE stack: its connection limit, MTU, default intervals and missing "
             "features (board id or stack family, see 'bleboard boards --features ID'); sets BLEBOARD_BOARD",
    )
    parser.add_argument(
        "--firmware", metavar="unix-nimble|unix-btstack",
        help="run on real MicroPython (the unix firmware with that BLE stack, built on first use) "
             "with a controller on the same radio; see docs/firmware.md",
    )
    parser.add_argument("-u", dest="unbuffered", action="store_true", help="unbuffered stdout and stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the board does to stderr")
    parser.add_argument("program", nargs="?", metavar="FILE|-", help="program file, or - to read it from stdin")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program (sys.argv[1:])")


def main(args):
    """Run the program and end the process with its status (does not return)."""
    from bleboard.runtime import session

    if args.firmware:
        return _run_firmware(args)
    _check_settings(args)
    status = run(args)
    if status is _INTERRUPTED:
        session.finish(1, interrupted=True)
    session.finish(status)


_INTERRUPTED = object()


def _run_firmware(args):
    """--firmware: the program runs on real MicroPython, not in this process."""
    from bleboard.tools import firmware_build, firmware_run

    command, rest = None, list(args.args)
    if args.command:
        command, rest = args.command[0], args.command[1:]
    elif args.program is None:
        print("bleboard run: --firmware needs FILE, - or -c CODE", file=sys.stderr)
        return 2
    try:
        return firmware_run.run(args.firmware, args.program, command, rest)
    except ValueError as exc:
        print("bleboard run: %s" % exc, file=sys.stderr)
        return 2
    except (firmware_build.FirmwareBuildError, OSError) as exc:
        print("bleboard run: %s" % exc, file=sys.stderr)
        return 1


def run(args):
    """Run the program in this process; returns its exit status (or _INTERRUPTED)."""
    from bleboard.runtime import session

    signal.signal(signal.SIGTERM, session.on_sigterm)
    session.route_signals_to_main()
    session.watch_sigterm()
    verbose = args.verbose or os.environ.get("BLEBOARD_VERBOSE", "") not in ("", "0")
    _setup_logging(verbose)
    _export_radio_options(args, verbose)

    program = _load_program(args)
    if isinstance(program, int):
        return program
    source, filename, argv0, path0, reexec = program

    from bleboard.runtime import aliases, compat, mpjson, precedence, scheduler, stdio

    stdio.setup_buffering(args.unbuffered or bool(os.environ.get("PYTHONUNBUFFERED")))

    precedence.install(path0)
    aliases.install()
    compat.install()
    mpjson.install()
    cause = os.environ.pop("BLEBOARD_RESET_CAUSE", "")
    session.configure(
        reexec + list(args.args),
        int(cause) if cause.isdigit() else session.PWRON_RESET,
        _hex_bytes(os.environ.pop("BLEBOARD_UNIQUE_ID", "")),
    )
    _reset_wake_signal(scheduler.WAKE_SIGNAL)
    stdio.guard(scheduler.default())  # created now, on the main thread, so irq handlers run there
    if verbose:
        _LOG_HANDLER.setStream(sys.stderr)  # the guarded stream
    sys.argv[:] = [argv0] + list(args.args)
    log.debug("running %s (sys.path[0]=%r)", filename, path0)
    return _execute(source, filename)


def _check_settings(args):
    """Radio settings are checked before the program starts: a mistake is one line, exit 2
    (or 1 for a controller that is not plugged in), not a traceback from the radio thread."""
    from bleboard import preflight

    preflight.check_address(os.environ.get("BLEBOARD_ADDRESS"))
    for option, var, check in (("snoop", "BLEBOARD_SNOOP", preflight.check_snoop),
                               ("hci", "BLEBOARD_HCI", preflight.check_hci)):
        value = getattr(args, option)
        if value is not None:
            check(value, "--" + option)
        else:
            check(os.environ.get(var), var)
    if args.board is not None:
        _check_board(args.board, "--board")
    else:
        _check_board(os.environ.get("BLEBOARD_BOARD"), "BLEBOARD_BOARD")


def _check_board(text, name):
    """An unknown board is a usage error naming the choices, before the program starts."""
    if not text:
        return
    from bleboard.cli import UsageError
    from bleboard.tools import board_profiles

    try:
        board_profiles.resolve(text)
    except board_profiles.UnknownProfile as e:
        raise UsageError("%s: %s" % (name, e)) from None


def _reset_wake_signal(signum):
    """A board starts with the wake-up signal usable, even when started by a reset
    (exec keeps it ignored) or by a parent that blocked it: else irq handlers could
    not run on the main thread."""
    if signal.getsignal(signum) == signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})


def _hex_bytes(text):
    try:
        return bytes.fromhex(text) or None
    except ValueError:
        return None


# ---- set-up ------------------------------------------------------------------


_LOG_HANDLER = logging.StreamHandler()


def _setup_logging(verbose):
    if not verbose:
        return
    os.environ["BLEBOARD_VERBOSE"] = os.environ.get("BLEBOARD_VERBOSE") or "1"
    _LOG_HANDLER.setFormatter(logging.Formatter("bleboard: %(name)s: %(message)s"))
    root = logging.getLogger("bleboard")
    root.addHandler(_LOG_HANDLER)
    root.setLevel(logging.DEBUG)


def _export_radio_options(args, verbose):
    for option, var in (("hci", "BLEBOARD_HCI"), ("snoop", "BLEBOARD_SNOOP"), ("latency", "BLEBOARD_LATENCY"),
                        ("board", "BLEBOARD_BOARD")):
        value = getattr(args, option)
        if value is not None:
            os.environ[var] = value
        if verbose and os.environ.get(var):
            log.debug("%s=%s", var, os.environ[var])


def _load_program(args):
    """(source, filename, argv0, path0, reexec args) -- or an exit status on error."""
    prefix = ["-u"] if args.unbuffered else []
    if args.command is not None:
        if not args.command:
            print("bleboard run: argument expected for the -c option", file=sys.stderr)
            return 2
        code, rest = args.command[0], args.command[1:]
        args.args = rest + list(args.args)
        return code, "<string>", "-c", "", prefix + ["-c", code]
    if args.program is None and sys.stdin is not None and sys.stdin.isatty():
        return _interactive()
    if args.program in (None, "-"):
        source = sys.stdin.read() if sys.stdin is not None else ""
        return source, "<stdin>", "-", "", prefix + ["-c", source]
    path = args.program
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        print("bleboard run: can't open file %r: [Errno %s] %s" % (path, exc.errno, exc.strerror), file=sys.stderr)
        return 2
    path0 = os.path.dirname(os.path.realpath(path))
    return source, path, path, path0, prefix + [os.path.abspath(path)]


def _interactive():
    """No program and a terminal: a plain REPL with the board modules (like `python`)."""
    source = "import code as _c; _c.interact(banner='bleboard virtual board', local=globals(), exitmsg='')"
    return source, "<stdin>", "", "", ["-"]


# ---- running ---------------------------------------------------------------


def _execute(source, filename):
    import builtins

    module = types.ModuleType("__main__")
    module.__builtins__ = builtins
    if filename not in ("<string>", "<stdin>"):
        module.__file__ = filename
    sys.modules["__main__"] = module
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        _run_pending()
    except SystemExit as exc:
        return _exit_status(exc)
    except KeyboardInterrupt as exc:
        _report(exc)
        return _INTERRUPTED
    except BaseException as exc:  # the program's uncaught exception
        if _radio_unavailable(exc):
            return 1
        _report(exc)
        return 1
    return 0


def _run_pending():
    """Like MicroPython's unix port after the main program: run what is already scheduled."""
    from bleboard.runtime import scheduler

    sched = scheduler._default
    if sched is not None and sched.on_consumer_thread():
        sched.drain()


def _radio_unavailable(exc):
    """The controller named by --hci/BLEBOARD_HCI could not be opened and the program did not
    handle it: one line naming the transport, not a traceback (the program is not at fault)."""
    from bleboard import preflight

    if not (os.environ.get("BLEBOARD_HCI") and preflight.is_radio_unavailable(exc)):
        return False
    detail = str(exc).split("cannot open the radio: ", 1)[-1]
    try:
        print("bleboard run: cannot open the radio: %s" % detail, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    return True


def _report(exc):
    """Print an uncaught exception like CPython: through sys.excepthook, our frame hidden."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _execute.__code__:
        tb = tb.tb_next
    exc.__traceback__ = tb  # CPython's hook prints the exception's own traceback
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException:  # a broken hook must not hide the error
        sys.__excepthook__(type(exc), exc, tb)


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        print(code, file=sys.stderr)
    except (OSError, ValueError):
        pass
    return 1
