"""`bleboard demo`: two virtual boards on the virtual radio, zero configuration.

Starts peripheral.py and central.py (plain MicroPython `bluetooth` programs, next to this
file) as two `bleboard run` processes. They find each other on the per-user default radio
(started on demand), advertise, scan, connect and exchange GATT reads, writes and
notifications; their output is shown side by side.
"""

import os
import random
import selectors
import subprocess
import sys
import time

from bleboard.cli import CommandError, UsageError

HELP = "Watch two virtual boards advertise, connect and talk GATT (no hardware needed)."
HERE = os.path.dirname(os.path.abspath(__file__))


def configure(parser):
    parser.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    from bleboard.runtime.run_cmd import _latency

    parser.add_argument("--latency", default=None, type=_latency, metavar="board|fast|MS",
                        help="link timing: board (default), fast or milliseconds")


def _start(script, name, env):
    return subprocess.Popen(
        [sys.executable, "-m", "bleboard", "run", os.path.join(HERE, script), name],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
    )


def _stop(boards):
    for proc in boards.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in boards.values():
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _what_failed(boards, last, running, timed_out, timeout):
    """One line: which board failed or was still running, and the last thing it printed."""
    parts = []
    for label, proc in boards.items():
        said = " (last printed: %r)" % last[label] if last.get(label) else " (printed nothing)"
        if label in running:
            parts.append("%s still running%s" % (label, said))
        elif proc.returncode:
            parts.append("%s exited with status %d%s" % (label, proc.returncode, said))
    if timed_out:
        return "timed out after %g s (--timeout): %s" % (timeout, "; ".join(parts) or "output still open")
    return "; ".join(parts)


def main(args):
    from bleboard import preflight

    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds, got %g" % args.timeout)
    preflight.check_environment()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if args.latency:
        env["BLEBOARD_LATENCY"] = args.latency
    name = "thermo-%04x" % random.getrandbits(16)  # unique, so other boards on the radio don't interfere
    boards = {}
    last = {}
    running = []
    open_streams = 0
    try:
        boards["peripheral"] = _start("peripheral.py", name, env)
        time.sleep(0.3)  # let the peripheral start advertising first, like a person would
        boards["central"] = _start("central.py", name, env)
        selector = selectors.DefaultSelector()
        for label, proc in boards.items():
            selector.register(proc.stdout, selectors.EVENT_READ, label)
        deadline = time.monotonic() + args.timeout
        width = max(len(k) for k in boards)
        open_streams = len(boards)
        while open_streams and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                line = key.fileobj.readline()
                if not line:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                text = line.decode(errors="replace").rstrip()
                last[key.data] = text
                print("[%-*s] %s" % (width, key.data, text), flush=True)
    finally:
        running = [label for label, proc in boards.items() if proc.poll() is None]
        _stop(boards)  # also on Ctrl-C: no board outlives the demo
    timed_out = open_streams > 0
    if timed_out or any(proc.returncode != 0 for proc in boards.values()):
        raise CommandError(_what_failed(boards, last, running, timed_out, args.timeout))
    print("demo finished: two virtual boards talked over the virtual radio")
    return 0
