"""Multitest participants: one small class per kind of interpreter (spec/bluetooth.md §7.2).

The runner only needs five things from a participant: start it with a script,
a file descriptor to wait on, complete output lines, a way to send it a line,
and a way to make sure it is gone. Child processes run in their own session so
that ending one also ends anything it started, and so that Ctrl-C reaches only
the runner, which then ends them itself.
A real board (raw REPL over a serial port) fits the same shape: board_instance.py.
"""

import collections
import os
import select
import shlex
import signal
import subprocess
import sys
import time

# Lines the runner drops everywhere: chatter from USB HCI transports and radio firmware.
NOISE = (
    "libusb: error ",
    "hci_transport_h2_libusb.c",
    "USB Path: ",
    "hci_number_completed_packet",
    "lld_pdu_get_tx_flush_nb HCI packet count mismatch (",
    " ets_task(",
)

KINDS = ("virtual", "cpython", "micropython", "micropython-btstack", "exec:CMD", "port:DEV", "a0", "u0", "c0", "/dev/...")


class InstanceError(Exception):
    """An instance spec that cannot be used, or a participant that cannot be started."""


def decode_line(raw):
    """Decode one output line as the runner sees it: ASCII, escapes for other bytes, no trailing space."""
    return raw.decode("ascii", "backslashreplace").rstrip()


class Instance:
    """A participant that runs a script and talks in lines."""

    name = "instance"

    def __init__(self):
        self._buffer = bytearray()
        self._lines = collections.deque()  # complete decoded lines not yet taken
        self.finished = False  # end of output seen

    # -- to be provided by a kind -------------------------------------------------------
    def start(self, script, cwd):
        raise NotImplementedError

    def fds(self):
        """File descriptors that become readable when there is something for pump()."""
        raise NotImplementedError

    def _read_chunk(self):
        """Return bytes available now, b'' at the end of output, None if there is nothing yet."""
        raise NotImplementedError

    def write(self, text):
        raise NotImplementedError

    def kill(self):
        raise NotImplementedError

    # -- line handling shared by every kind -------------------------------------------------
    def pump(self):
        """Take what is readable now into the line buffer; never blocks."""
        chunk = self._read_chunk()
        if chunk is None:
            return
        if not chunk:
            if self._buffer:
                self._lines.append(decode_line(bytes(self._buffer)))
                self._buffer.clear()
            self.finished = True
            return
        self._buffer += chunk
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            self._lines.append(decode_line(bytes(self._buffer[:end])))
            del self._buffer[: end + 1]

    def pop_line(self):
        """Return the oldest complete line, or None if there is none yet."""
        if self._lines:
            return self._lines.popleft()
        return None

    def has_lines(self):
        return bool(self._lines)

    def readline(self, timeout):
        """Return the next line, None at end of output; raise TimeoutError after `timeout` s of silence."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.pop_line()
            if line is not None:
                return line
            if self.finished:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select(self.fds(), [], [], remaining)
            if readable:
                self.pump()


class ProcessInstance(Instance):
    """A child interpreter started as `argv + ['-c', script]` with piped stdin/stdout."""

    def __init__(self, argv, env=None, name=None):
        super().__init__()
        self.argv = list(argv)
        self.env = env  # complete environment, or None to inherit
        self.name = name or os.path.basename(self.argv[0])
        self.proc = None
        self._pidfd = None

    def start(self, script, cwd):
        try:
            self.proc = subprocess.Popen(
                self.argv + ["-c", script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=self.env,
                bufsize=0,
                start_new_session=True,
            )
        except OSError as exc:
            raise InstanceError("cannot start %s: %s" % (" ".join(self.argv), exc)) from None
        os.set_blocking(self.proc.stdin.fileno(), False)  # a stuck reader must not stall the runner
        try:
            self._pidfd = os.pidfd_open(self.proc.pid)  # readable once the process has exited
        except (AttributeError, OSError):
            self._pidfd = None  # end of output is then the only sign of exit

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def fds(self):
        if self._pidfd is None:
            return [self.proc.stdout.fileno()]
        return [self.proc.stdout.fileno(), self._pidfd]

    def _read_chunk(self):
        out = self.proc.stdout.fileno()
        if _readable(out):
            return os.read(out, 65536)
        if self._pidfd is not None and _readable(self._pidfd):
            # Exited with nothing left to read, even if a process it started still holds the pipe.
            return b""
        return None

    def write(self, text, timeout=10.0):
        """Send text to the instance's stdin.

        An instance that has stopped reading is left alone: once the pipe stays
        full for `timeout` s, or is closed, the rest of the text is dropped.
        """
        if self.proc is None or self.proc.stdin.closed:
            return
        fd = self.proc.stdin.fileno()
        data = text.encode("ascii", "backslashreplace")
        deadline = time.monotonic() + timeout
        while data:
            try:
                data = data[os.write(fd, data) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                    return
            except OSError:  # BrokenPipeError and kin: it is gone
                return

    def kill(self):
        """End the instance and everything in its session, then reap it.

        SIGKILL goes to the process group while the leader is still unreaped, so the
        group id cannot have been reused by an unrelated process.
        """
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _wait_group_gone(self.proc.pid)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def _readable(fd):
    return bool(select.select([fd], [], [], 0)[0])


def _group_running(pgid):
    """True while a live (not zombie) process is in group pgid.

    Orphaned members are reaped by init whenever it gets round to it, so their
    zombies must not count; /proc says which are zombies. Elsewhere, ask kill().
    """
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _wait_group_gone(pgid, timeout=2.0):
    """Give the other members of a killed process group a moment to die.

    SIGKILL is delivered asynchronously; without this a grandchild may still be
    running when the runner reports the test finished.
    """
    deadline = time.monotonic() + timeout
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return  # the usual case: the instance left nothing behind
    while _group_running(pgid) and time.monotonic() < deadline:
        time.sleep(0.005)


def _board_profile(text, board):
    """A `virtual:ID` board must name a board or stack family that has a profile."""
    from bleboard.tools import board_profiles

    try:
        board_profiles.resolve(board)
    except board_profiles.UnknownProfile as e:
        raise InstanceError("instance %r: %s" % (text, e)) from None
    return board


def _command(text, cmd):
    """exec:CMD as argv, split like a shell (quotes, backslashes)."""
    try:
        argv = shlex.split(cmd)
    except ValueError as e:
        raise InstanceError("instance %r: cannot split the command: %s" % (text, e)) from None
    if not argv:
        raise InstanceError("instance %r: no command after 'exec:'" % text)
    return argv


class InstanceSpec:
    """A parsed `-i` argument: which interpreter, and which environment.

    `virtual`  a virtual board (`bleboard run`, which behaves like `python -c`)
    `virtual:ID` one that plays board (or stack family) ID's stack limits (`bleboard run --board ID`)
    `cpython`  this Python interpreter
    `micropython`, `micropython-btstack`  MicroPython's unix port with NimBLE or BTstack, its
               controller on the private radio behind a pty (testing/firmware_instance.py)
    `exec:CMD` CMD split like a shell does (`exec:'python3 -X dev'`); it gets `-c SCRIPT`
    Any of them may end in `,VAR=VAL,...`: the child's environment is then exactly
    those variables (a virtual board also gets BLEBOARD_AIR, or it has no radio).
    `port:DEV`, `a0`..`a9` (/dev/ttyACM*), `u0`.. (/dev/ttyUSB*), `c0`.. (COM*), `/dev/...`
    a board on that serial port, driven through its raw REPL (no environment items).
    """

    def __init__(self, text):
        self.text = text
        head, _, tail = text.partition(",")
        self.env = None
        from bleboard.testing import board_instance  # it builds on Instance, defined above

        self.device = board_instance.board_device(head)
        if tail:
            self.env = {}
            for item in tail.split(","):
                var, eq, val = item.partition("=")
                if not eq or not var:
                    raise InstanceError("instance %r: environment item %r is not VAR=VAL" % (text, item))
                self.env[var] = val
        if head == "virtual":
            self.kind = "virtual"
            self.argv = [sys.executable, "-m", "bleboard", "run"]
            self.name = "virtual"
        elif head.startswith("virtual:") and len(head) > 8:
            self.kind = "virtual"
            self.argv = [sys.executable, "-m", "bleboard", "run", "--board", _board_profile(text, head[8:])]
            self.name = head
        elif head == "cpython":
            self.kind = "cpython"
            self.argv = [sys.executable]
            self.name = os.path.basename(sys.executable)
        elif head in ("micropython", "micropython-nimble", "micropython-btstack"):
            self.kind = head if head != "micropython-nimble" else "micropython"
            self.argv = None  # the firmware binary, found (or built) when the instance is made
            self.name = self.kind
        elif head.startswith("exec:") and len(head) > 5:
            self.kind = "exec"
            self.argv = _command(text, head[5:])
            self.name = os.path.basename(self.argv[0])
        elif self.device is not None:
            if tail:
                raise InstanceError("instance %r: a board has no environment to set (drop ',%s')" % (text, tail))
            self.kind = "board"
            self.argv = None
            self.name = os.path.basename(self.device)
        else:
            raise InstanceError("instance %r: unknown kind (kinds: %s)" % (text, ", ".join(KINDS)))

    @property
    def needs_radio(self):
        return self.kind in ("virtual", "micropython", "micropython-btstack")

    def make(self, radio_addr=None):
        """Return a new, unstarted Instance; `radio_addr` is the private radio, if any."""
        if self.kind == "board":
            from bleboard.testing.board_instance import BoardInstance

            return BoardInstance(self.device, self.name)  # a board has its own radio
        if self.kind.startswith("micropython"):
            from bleboard.testing import firmware_instance as fw

            binary = fw.firmware_binary(fw.STACK_OF_KIND[self.kind])
            return fw.FirmwareInstance(binary, dict(self.env) if self.env is not None else None, self.name, radio_addr)
        if self.env is not None:
            env = dict(self.env)
            if self.kind == "virtual" and radio_addr:
                env["BLEBOARD_AIR"] = radio_addr
        else:
            env = dict(os.environ)
            # Boards print unbuffered; the silence timeout counts lines received.
            env["PYTHONUNBUFFERED"] = "1"
            if radio_addr:
                env["BLEBOARD_AIR"] = radio_addr
        return ProcessInstance(self.argv, env, self.name)

    def __repr__(self):
        return "InstanceSpec(%r)" % self.text
