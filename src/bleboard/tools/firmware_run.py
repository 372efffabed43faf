"""`bleboard run --firmware unix-nimble app.py`: run a program on real MicroPython instead of a virtual board.

The firmware (bleboard.tools.firmware_build, built on first use and cached)
gets a controller on the same radio a virtual board would join ($BLEBOARD_AIR,
else the per-user default radio) behind a pty, so it meets `bleboard run`
boards on one air. Program, arguments, stdin and stdout pass through as with
the `micropython` command itself; the exit status is the firmware's. When the
firmware ends, its controller leaves the air.
"""

import os
import signal
import subprocess
import sys

FIRMWARES = {"unix-nimble": ("unix", "nimble"), "unix-btstack": ("unix", "btstack")}
STOP_TIMEOUT = 5.0  # s for the firmware to end after SIGTERM before it is killed


def parse_firmware(name):
    """(port, stack) for a --firmware value; ValueError naming the choices otherwise."""
    if name not in FIRMWARES:
        raise ValueError("--firmware must be one of %s, not %r" % (", ".join(FIRMWARES), name))
    return FIRMWARES[name]


def run(firmware, program=None, command=None, args=(), radio=None):
    """Run `program` (a file, or '-' for stdin) or `command` (source text) on the firmware; return its status."""
    from bleboard.radio.pty_controller import open_pty_controller
    from bleboard.tools import firmware_build

    port, stack = parse_firmware(firmware)
    binary = firmware_build.build(stack, port, log=lambda line: print("bleboard run: " + line, file=sys.stderr))
    argv = [binary]
    if command is not None:
        argv += ["-c", command]
    elif program is not None and program != "-":
        argv.append(program)
    argv += list(args)
    with open_pty_controller(radio or os.environ.get("BLEBOARD_AIR") or None, timeout=20.0) as controller:
        env = dict(os.environ, **controller.env())
        child = subprocess.Popen(argv, env=env)
        previous = {}

        def forward(signum, frame):
            child.send_signal(signum)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[sig] = signal.signal(sig, forward)
        try:
            status = child.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
    return status if status >= 0 else 128 - status
