"""`bleboard repl` in a terminal (a pty, as a user's terminal is) against the pty virtual board."""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from bleboard.tools import pty_board


class Terminal:
    """Runs a command with a pty as its terminal, like a user typing in xterm."""

    def __init__(self, *argv):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.seen = b""

    def type(self, data):
        os.write(self.master, data)

    def expect(self, needle, timeout=15):
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; got {self.seen[-500:]!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {needle!r}; got {self.seen[-500:]!r}")
                self.seen += chunk
        return self.seen

    def forget_through(self, needle):
        """Drop what was seen up to and including `needle`; what came in the same read stays."""
        self.seen = self.seen[self.seen.index(needle) + len(needle):]

    def wait(self, timeout=15):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    pass
        return self.proc.wait(1)

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)
        os.close(self.master)


@pytest.fixture
def board(tmp_path):
    with pty_board.running_board(fs=str(tmp_path)) as (path, proc):
        yield path, proc


def test_repl_on_a_port(board):
    path, _ = board
    term = Terminal(sys.executable, "-m", "bleboard", "repl", "--port", path)
    try:
        term.expect(b"Ctrl-] to leave")  # the terminal is raw from here on
        term.forget_through(b"Ctrl-] to leave")
        term.type(b"\x03")  # a fresh prompt whatever was on the screen
        term.expect(b">>> ")
        term.type(b"6 * 7\r")
        term.expect(b"42\r\n>>> ")
        term.type(b"\x1d")
        assert term.wait() == 0
    finally:
        term.close()


def test_repl_on_a_virtual_board():
    term = Terminal(sys.executable, "-m", "bleboard", "repl")
    try:
        term.expect(b"Ctrl-] to leave")  # the terminal is raw from here on
        term.forget_through(b"Ctrl-] to leave")  # the banner Ctrl-B asks for comes after it
        term.expect(b"bleboard-virtual with Bumble")
        term.expect(b">>> ")
        term.type(b"import time; time.sleep_ms(1); print('hello', 'board')\r")
        term.expect(b"hello board\r\n>>> ")
        term.type(b"\x1d")
        assert term.wait() == 0
    finally:
        term.close()


def test_port_vanishing_ends_the_session(board):
    path, proc = board
    term = Terminal(sys.executable, "-m", "bleboard", "repl", "--port", path)
    try:
        term.expect(b"Ctrl-] to leave")
        os.killpg(proc.pid, signal.SIGKILL)  # the board is unplugged
        proc.wait(5)
        assert term.wait() == 1
        assert f"bleboard repl: {path} went away".encode() in term.seen
    finally:
        term.close()


def test_missing_port():
    r = subprocess.run([sys.executable, "-m", "bleboard", "repl", "--port", "/dev/ttyNOPE9"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no such serial port" in r.stderr  # a device missing: a failure


def test_mpremote_repl_on_the_pty_board(board):
    """The real `mpremote repl` (its own terminal handling) works on the virtual board as on USB."""
    import shutil

    mpremote = shutil.which("mpremote")
    if mpremote is None:
        pytest.skip("mpremote is not installed")
    path, _ = board
    term = Terminal(mpremote, "connect", path, "repl")
    try:
        term.expect(b"Connected to MicroPython at " + path.encode())
        term.expect(b"Use Ctrl-] or Ctrl-x to exit this shell")
        term.forget_through(b"Use Ctrl-] or Ctrl-x to exit this shell")
        term.type(b"\r")
        term.expect(b">>> ")
        term.type(b"[x * x for x in range(4)]\r")
        term.expect(b"[0, 1, 4, 9]\r\n>>> ")
        term.type(b"\x1d")
        assert term.wait() == 0
    finally:
        term.close()
