"""A multitest participant on a board's serial port, driven through the raw REPL (spec/bluetooth.md §7.2, §7.4).

The board gets the same program as a subprocess instance. Before it, the board
is soft-reset (Ctrl-C, raw REPL, Ctrl-D) so no state leaks from the previous
test; the program goes in with mpremote's transport (raw-paste where the board
has it) and its output streams back as it comes. A worker thread does all of
the serial work and hands the output to the runner through a pipe, so waiting
for a board (a reset, a reboot, a slow upload) never stalls the other
instances. Lines the runner sends (BROADCASTs) are written to the port, which
is the running program's `sys.stdin`.

`WAIT_FOR_REBOOT resume delay`: the line goes to the runner, then the worker
waits for the board to come back (the port reopened, or the banner on a port
that stays), enters the raw REPL without a soft reset (the reset cause stays
what the reboot made it) and runs the file again calling `resume()`.

Anything that goes wrong with the port (it cannot be opened, it vanishes, the
board does not answer) ends the instance with one `BOARD ERROR: ...` line, so
the test fails with the reason in its output and the runner carries on.
"""

import importlib.util
import os
import re
import select
import threading
import time

from bleboard.testing.instance import Instance, InstanceError

BAUDRATE = 115200
READ_TIMEOUT = 2.0  # s: one serial read inside mpremote's helpers (raw-paste replies)
WRITE_TIMEOUT = 5.0  # s: a board that stops taking input does not hold the runner
RESET_TIMEOUT = 10.0  # s: for each step of the soft reset (a board's boot.py runs in it)
REBOOT_TIMEOUT = 20.0  # s: for a board to come back after WAIT_FOR_REBOOT
QUIET = 0.15  # s: silence after Ctrl-C that says the board has stopped talking
PROMPT_GRACE = 2.0  # s: after the banner, for the friendly prompt (main.py may run instead)
POLL = 0.25  # s: how often waiting loops look at the stop flag
JOIN_TIMEOUT = 3.0  # s: for the worker to end when the instance is killed

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
ERROR_PREFIX = "BOARD ERROR: "

# Device shorthands of MicroPython's runner: a0 is /dev/ttyACM0, u0 /dev/ttyUSB0, c0 COM0.
_SHORT = re.compile(r"([auc])([0-9]+)$")
_SHORT_DEVICE = {"a": "/dev/ttyACM", "u": "/dev/ttyUSB", "c": "COM"}
_CALL = re.compile(r"instance[0-9]+\(\)$")

# What the board is: MicroPython says 'micropython', the virtual board (CPython inside) 'cpython'.
_PROBE = "import sys\ndel sys\n"


def board_device(head):
    """The serial device a spec names (`port:DEV`, a0, u0, c0, /dev/...), or None if it names none."""
    if head.startswith("port:"):
        if len(head) == 5:
            raise InstanceError("instance %r: no device after 'port:' (e.g. port:/dev/ttyACM0)" % head)
        return head[5:]
    match = _SHORT.match(head)
    if match:
        return _SHORT_DEVICE[match.group(1)] + match.group(2)
    if head.startswith("/dev/") and len(head) > 5:
        return head
    return None


class BoardError(Exception):
    """The board or its port failed; the message goes into the test's output."""


def resume_script(script, resume):
    """The instance's program with its final `instanceN()` call replaced by `resume()` (§7.4)."""
    if not re.match(r"instance[0-9]+[A-Za-z0-9_]*$", resume):
        raise BoardError("WAIT_FOR_REBOOT names %r; the resume function must be instanceN..." % resume)
    lines = script.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if _CALL.match(lines[i]):
            lines[i] = resume + "()"
            return "\n".join(lines)
    raise BoardError("the program has no instanceN() call to replace with %s()" % resume)


class BoardInstance(Instance):
    """A MicroPython board on a serial port (a pty virtual board too)."""

    pid = None  # no process of ours runs it

    def __init__(self, device, name=None, baudrate=BAUDRATE):
        super().__init__()
        self.device = device
        self.name = name or os.path.basename(device)
        self.baudrate = baudrate
        self._rfd = self._wfd = None
        self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards _transport, _running, _pending
        self._transport = None
        self._running = False  # a program is running: input goes straight to the port
        self._pending = []  # input that arrived while no program ran (a reboot): sent when one runs
        self._after_reboot_line = b""  # output read with the WAIT_FOR_REBOOT line that followed it

    # -- the runner's side --------------------------------------------------------------
    def start(self, script, cwd=None):
        if importlib.util.find_spec("mpremote") is None:
            raise InstanceError("instance %s: mpremote is not installed (pip install mpremote)" % self.device)
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._rfd, False)
        self._thread = threading.Thread(target=self._work, args=(script,), name="board " + self.device, daemon=True)
        self._thread.start()

    def fds(self):
        return [self._rfd]

    def _read_chunk(self):
        try:
            return os.read(self._rfd, 65536)
        except BlockingIOError:
            return None

    def write(self, text):
        """Send text to the running program's stdin (kept for later while the board reboots)."""
        data = text.encode("ascii", "backslashreplace")
        with self._lock:
            if not self._running:
                self._pending.append(data)
                return
            self._send(data)

    def kill(self):
        """Stop the worker, interrupt the board's program and leave it in the friendly REPL."""
        self._stop.set()
        with self._lock:
            transport = self._transport
        if transport is not None:
            try:
                transport.serial.cancel_read()
            except Exception:
                pass
        if self._rfd is not None:
            os.close(self._rfd)  # a worker blocked on a full pipe gets EPIPE and ends
            self._rfd = None
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)
            self._thread = None
        with self._lock:
            self._running = False
            self._close_port(interrupt=True)

    # -- the worker ---------------------------------------------------------------------
    def _work(self, script):
        try:
            self._open()
            self._soft_reset()
            resume = self._run(script)
            while resume is not None and not self._stop.is_set():
                name, delay_ms = resume
                self._await_reboot(delay_ms)
                resume = self._run(resume_script(script, name))
        except BoardError as exc:
            if not self._stop.is_set():
                self._emit(ERROR_PREFIX + "%s: %s\r\n" % (self.device, exc))
        except OSError as exc:  # pyserial's SerialException is one too
            if not self._stop.is_set():
                self._emit(ERROR_PREFIX + "%s: the port failed (%s)\r\n" % (self.device, exc))
        except Exception as exc:  # mpremote's TransportError and kin: the board did not follow the protocol
            if not self._stop.is_set():
                self._emit(ERROR_PREFIX + "%s: %s: %s\r\n" % (self.device, type(exc).__name__, exc))
        finally:
            with self._lock:
                self._running = False
            os.close(self._wfd)  # the runner sees the end of output

    def _emit(self, data):
        """Hand output to the runner (blocks while its pipe is full, as a subprocess's stdout would)."""
        if isinstance(data, str):
            data = data.encode("ascii", "backslashreplace")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._wfd, view):]
        except OSError:
            pass  # the runner has closed its end: the instance was killed

    def _open(self):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        if self.device.startswith("/dev/") and not os.path.exists(self.device):
            raise BoardError("cannot open the port: there is no such device (is the board plugged in?)")
        try:
            transport = SerialTransport(self.device, self.baudrate, timeout=READ_TIMEOUT)
        except TransportError as exc:
            # mpremote opens ports exclusively: another terminal on it makes this fail too
            raise BoardError("cannot open the port (%s; in use by another program, or no permission?)" % exc) from None
        transport.serial.write_timeout = WRITE_TIMEOUT
        with self._lock:
            if self._stop.is_set():
                transport.close()
                raise BoardError("stopped")
            self._transport = transport

    def _close_port(self, interrupt=False):
        """Close the port (lock held); with `interrupt`, first stop the program and leave the raw REPL."""
        transport, self._transport = self._transport, None
        if transport is None:
            return
        try:
            if interrupt:
                transport.serial.write(b"\r\x03\x03\x02")  # Ctrl-C twice, Ctrl-B: friendly REPL again
            transport.close()
        except Exception:
            try:
                transport.serial.close()
            except Exception:
                pass

    def _expect(self, ending, timeout, what):
        """Read until `ending`; BoardError naming `what`, with the board's last output, if it does not come."""
        data = self._transport.read_until(1, ending, timeout=timeout, timeout_overall=timeout)
        if self._stop.is_set():
            raise BoardError("stopped")
        if not data.endswith(ending):
            tail = data[-200:].decode("ascii", "backslashreplace")
            raise BoardError("no %s from the board within %g s (it said %r)" % (what, timeout, tail))
        return data

    def _interrupt(self):
        """Stop whatever runs (Ctrl-C twice: a program may catch one) and drop what the board says about it.

        The board may answer late (a traceback, a prompt, a second raw REPL banner
        for a second interrupt): only once it has been quiet for a moment is the
        next thing it prints an answer to what is sent next.
        """
        serial = self._transport.serial
        serial.write(b"\r\x03\x03")
        fd = serial.fileno()
        until = time.monotonic() + RESET_TIMEOUT
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise BoardError("the board kept printing for %g s after Ctrl-C" % RESET_TIMEOUT)
            if self._stop.is_set():
                raise BoardError("stopped")
            if not select.select([fd], [], [], min(QUIET, left))[0]:
                return
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            if not data:
                raise BoardError("the port went away (board unplugged?)")

    def _enter_raw(self, when=""):
        self._interrupt()
        self._transport.serial.write(b"\r\x01")
        self._expect(RAW_BANNER, RESET_TIMEOUT, "raw REPL prompt" + when)

    def _soft_reset(self):
        """Interrupt whatever runs, enter the raw REPL, check the board runs code, soft-reset it."""
        self._enter_raw()
        self._probe()
        self._transport.serial.write(b"\x04")
        self._expect(b"soft reboot\r\n", RESET_TIMEOUT, "soft reboot")
        self._expect(RAW_BANNER, RESET_TIMEOUT, "raw REPL after the soft reset")

    def _probe(self):
        """A board that cannot run a two-line program is reported now, not as a test's failure."""
        err = self._transport.exec_raw(_PROBE, timeout=RESET_TIMEOUT)[1]
        if err:
            raise BoardError("the board could not run a short program: %s" % err.decode("ascii", "backslashreplace"))

    def _send(self, data):
        """Write input to the port (lock held); a port that refuses it is noticed by the reader."""
        if self._transport is None:
            return
        try:
            self._transport.serial.write(data)
        except Exception:
            pass

    def _run(self, script):
        """Upload and run one program; stream its output. Returns (resume, delay_ms) after WAIT_FOR_REBOOT."""
        self._transport.exec_raw_no_follow(script)
        with self._lock:
            self._running = True
            for data in self._pending:
                self._send(data)
            self._pending = []
        try:
            return self._stream()
        finally:
            with self._lock:
                self._running = False

    def _stream(self):
        """Pass the program's output on line by line until its end markers (two Ctrl-D) or a reboot."""
        fd = self._transport.serial.fileno()
        line = bytearray()
        markers = 0  # Ctrl-Ds seen: the first ends normal output, the second the error output
        while True:
            if self._stop.is_set():
                raise BoardError("stopped")
            if not select.select([fd], [], [], POLL)[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise BoardError("the port went away while the test ran (%s)" % exc.strerror) from None
            if not data:
                raise BoardError("the port went away while the test ran (board unplugged or reset?)")
            for at, byte in enumerate(data):
                if byte == 4:
                    markers += 1
                    if markers == 2:
                        if line:
                            self._emit(bytes(line))
                        return None
                    continue
                line.append(byte)
                if byte != 10:
                    continue
                resume = self._take_line(bytes(line))
                line.clear()
                if resume is not None:
                    self._after_reboot_line = data[at + 1:]  # what the board said next is the reboot's
                    return resume

    def _take_line(self, raw):
        """Send one complete line to the runner; a WAIT_FOR_REBOOT ends the program."""
        text = raw.rstrip()
        self._emit(raw)
        if text.startswith(b"WAIT_FOR_REBOOT "):
            fields = text.decode("ascii", "backslashreplace").split()
            if len(fields) < 2:
                raise BoardError("WAIT_FOR_REBOOT without a resume function")
            try:
                delay_ms = int(fields[2]) if len(fields) > 2 else 0
            except ValueError:
                raise BoardError("bad WAIT_FOR_REBOOT line %r" % text) from None
            resume_script("instance0()\n", fields[1])  # check the name before the board goes away
            return fields[1], delay_ms
        return None

    def _await_reboot(self, delay_ms):
        """Wait for the board to restart: the port comes back, or the banner appears on a port that stays."""
        if self._stop.wait(max(0, delay_ms) / 1000.0):
            raise BoardError("stopped")
        deadline = time.monotonic() + REBOOT_TIMEOUT
        seen = bytearray(self._after_reboot_line)
        with self._lock:
            fd = self._transport.serial.fileno()
        lost = False
        while True:
            at = seen.find(b"MicroPython ")
            if at >= 0:
                self._await_prompt(fd, seen[at:], deadline)
                break
            if seen.count(b"\x04") >= 2:  # the raw REPL's end markers: the program just ended
                raise BoardError("the program ended after WAIT_FOR_REBOOT without rebooting the board")
            left = deadline - time.monotonic()
            if left <= 0:
                raise BoardError("the board did not come back within %g s of WAIT_FOR_REBOOT" % REBOOT_TIMEOUT)
            if self._stop.is_set():
                raise BoardError("stopped")
            if not select.select([fd], [], [], min(POLL, left))[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                lost = True  # a USB board: its port disappears while it restarts
                break
            seen += data
        if lost:
            with self._lock:
                self._close_port()
            self._reopen(deadline)
        self._enter_raw_after_reboot()

    def _await_prompt(self, fd, seen, deadline):
        """After the banner, wait briefly for `>>> ` (main.py may run instead; Ctrl-C will stop it)."""
        until = min(deadline, time.monotonic() + PROMPT_GRACE)
        while b">>> " not in seen:
            left = until - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return  # the enter-raw step reports a dead port
            if not data:
                return
            seen += data

    def _reopen(self, deadline):
        """Open the port again once the board has re-enumerated."""
        last = None
        while True:
            if self._stop.wait(POLL):
                raise BoardError("stopped")
            if os.path.exists(self.device) or not self.device.startswith("/dev/"):
                try:
                    self._open()
                    return
                except BoardError as exc:
                    last = exc
            if time.monotonic() > deadline:
                raise BoardError("the port did not come back within %g s of WAIT_FOR_REBOOT%s"
                                 % (REBOOT_TIMEOUT, " (%s)" % last if last else ""))

    def _enter_raw_after_reboot(self):
        self._enter_raw(" after the reboot")
