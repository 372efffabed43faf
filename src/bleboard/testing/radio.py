"""A private virtual radio for one test run, so tests never meet other programs' boards.

The radio is `bleboard air` listening on a Unix socket in a fresh temporary
directory; it is ready once the socket file exists. Boards find it through
BLEBOARD_AIR. The server runs in its own session and is killed with its group.
Should the runner itself be killed outright, the server still goes: the runner
holds one connection to it, and it exits a few seconds after the last one closes.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LATENCIES = ("board", "fast")  # or a number of milliseconds per connection event
START_TIMEOUT = 20.0  # seconds for the server to create its socket
IDLE_EXIT = 2.0  # seconds the server outlives its last client (the runner's keep-alive)


def latency_arg(text):
    """argparse type for --latency: 'board', 'fast' or a non-negative number of milliseconds."""
    name = str(text).strip().lower()
    if name in LATENCIES:
        return name
    try:
        value = float(name)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError("latency must be 'board', 'fast' or a number of milliseconds, not %r" % text)
    return name


class RadioError(Exception):
    """The private radio could not be started."""


class PrivateRadio:
    """Start with `start()` (or use as a context manager); `addr` is the BLEBOARD_AIR value."""

    def __init__(self, latency="board"):
        self.latency = latency
        self.addr = None
        self._proc = None
        self._dir = None
        self._log = None
        self._keepalive = None

    def start(self):
        if self._proc is not None:
            return self.addr
        self._dir = tempfile.mkdtemp(prefix="bleboard-test-")
        sock = os.path.join(self._dir, "air.sock")
        log_path = os.path.join(self._dir, "air.log")
        self._log = open(log_path, "wb")
        argv = [sys.executable, "-m", "bleboard", "air", "--listen", "unix:" + sock, "--latency", self.latency]
        argv += ["--idle-exit", str(IDLE_EXIT)]
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        # The server's only readiness signal is its socket file; check it a few times a second.
        while not os.path.exists(sock):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                why = "exited with status %s" % self._proc.returncode if self._proc.returncode is not None else (
                    "created no socket within %d s" % START_TIMEOUT
                )
                self._log.flush()
                with open(log_path, "rb") as f:
                    tail = f.read()[-2000:].decode("utf-8", "replace")
                self.stop()
                raise RadioError("radio server %s: %s\n%s" % (" ".join(argv), why, tail))
            time.sleep(0.02)
        self._keepalive = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._keepalive.connect(sock)
        self.addr = "unix:" + sock
        return self.addr

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    def stop(self):
        """Kill the server and its group, then remove the socket directory."""
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        if self._proc is not None:
            if self._proc.returncode is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.addr = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
