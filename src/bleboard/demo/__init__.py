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

HELP = "Watch two virtual boards advertise, connect and talk GATT (no hardware needed)."
HERE = os.path.dirname(os.path.abspath(__file__))


def configure(parser):
    parser.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    parser.add_argument("--latency", default=None, help="link timing: board (default), fast or milliseconds")


def _start(script, name, env):
    return subprocess.Popen(
        [sys.executable, "-m", "bleboard", "run", os.path.join(HERE, script), name],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
    )


def main(args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if args.latency:
        env["BLEBOARD_LATENCY"] = args.latency
    name = "thermo-%04x" % random.getrandbits(16)  # unique, so other boards on the radio don't interfere
    boards = {"peripheral": _start("peripheral.py", name, env)}
    time.sleep(0.3)  # let the peripheral start advertising first, like a person would
    boards["central"] = _start("central.py", name, env)
    selector = selectors.DefaultSelector()
    for label, proc in boards.items():
        selector.register(proc.stdout, selectors.EVENT_READ, label)
    deadline = time.monotonic() + args.timeout
    width = max(len(k) for k in boards)
    open_streams = len(boards)
    try:
        while open_streams and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.5):
                line = key.fileobj.readline()
                if not line:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                print("[%-*s] %s" % (width, key.data, line.decode(errors="replace").rstrip()), flush=True)
    finally:
        for proc in boards.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in boards.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = [label for label, proc in boards.items() if proc.returncode != 0]
    if failed or open_streams:
        print("demo failed: %s" % (", ".join(failed) or "timed out"), file=sys.stderr)
        return 1
    print("demo finished: two virtual boards talked over the virtual radio")
    return 0
