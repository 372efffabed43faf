"""MicroPython's REPL, served over a byte stream: friendly REPL, paste mode, raw REPL, raw-paste.

This is the protocol mpremote (and Thonny, rshell, pyboard.py) speak to a
board over USB serial; speaking it on a pty makes the virtual board look like
a USB board to them. Code runs on the main thread of this process, so irq
handlers (delivered there by the runtime's scheduler) interleave with it as
on a board. A reader thread feeds input and turns Ctrl-C into SIGINT while
code runs, so a running program stops as it does on a board.
"""

import codeop
import errno
import os
import queue
import select
import signal
import struct
import sys
import threading
import traceback

CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = 1, 2, 3, 4, 5
RAW_PASTE_WINDOW = 256
MPY_VERSION = "v1.29.0"
_TOOLS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
WRITE_STALL = 2.0  # seconds a full pty may block output before we drop it (nobody is reading)


class Console:
    """The board's end of the pty: reads in a thread, writes without ever blocking for long."""

    def __init__(self, fd):
        self.fd = fd
        self.inbox = queue.Queue()
        self.executing = False  # Ctrl-C becomes SIGINT to the main thread while code runs
        self.paste_active = False  # ... but not while raw-paste data (which may hold 0x03) streams in
        self.interrupt_pending = False  # the SIGINT came from the console, not from the host's terminal
        # Re-entrant: an irq handler runs from a signal on the main thread, possibly while
        # the REPL itself is writing (echo, prompt); its output must not wait for itself.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._pending = b""
        self._dropping = False
        os.set_blocking(fd, False)
        self._thread = threading.Thread(target=self._read_loop, name="board-console", daemon=True)
        self._thread.start()

    def _read_loop(self):
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno == errno.EIO:  # no one has the other end open; wait for the next client
                    self._stop.wait(0.2)
                    continue
                break
            if not data:
                continue
            if self.executing and not self.paste_active and CTRL_C in data:
                before = data[: data.index(CTRL_C)]
                if before:
                    self.inbox.put(before)
                self.interrupt_pending = True
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                data = data[data.index(CTRL_C) + 1:]
            if data:
                self.inbox.put(data)

    def getc(self, timeout=None):
        """Next input byte (int); None on timeout."""
        if not self._pending:
            try:
                self._pending = self.inbox.get(timeout=timeout)
            except queue.Empty:
                return None
        c, self._pending = self._pending[0], self._pending[1:]
        return c

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        with self._lock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                    view = view[n:]
                    self._dropping = False
                except BlockingIOError:
                    # a full pty: wait for the reader, but once it has not come for WRITE_STALL,
                    # drop output at once until it drains (a USB board with no host does the same)
                    _, ready, _ = select.select([], [self.fd], [], 0 if self._dropping else WRITE_STALL)
                    if not ready:
                        self._dropping = True
                        return
                except OSError:
                    return

    def close(self):
        self._stop.set()


class ConsoleOut:
    """sys.stdout/sys.stderr of code on the board: '\\n' goes out as '\\r\\n', like a board's UART."""

    encoding = "utf-8"

    def __init__(self, console):
        self.console = console
        self.buffer = self

    def write(self, s):
        if isinstance(s, (bytes, bytearray, memoryview)):
            data = bytes(s)
        else:
            data = str(s).encode("utf-8", "replace")
        self.console.write(data.replace(b"\n", b"\r\n"))
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("the board console has no file descriptor")


class ConsoleIn:
    """sys.stdin of code on the board: what the terminal types (input() echoes it, as on a board)."""

    encoding = "utf-8"

    def __init__(self, console):
        self.console = console
        self.buffer = self

    def read(self, n=-1):
        out = bytearray()
        while n < 0 or len(out) < n:
            c = self.console.getc()
            if c is None or (c == CTRL_D and n < 0):
                break
            out.append(c)
        return out.decode("utf-8", "replace")

    def readline(self, limit=-1, echo=False):
        """A line as a board's sys.stdin gives it: silent; input() asks for the echo."""
        line = bytearray()
        while True:
            c = self.console.getc()
            if c in (0x0D, 0x0A):
                if echo:
                    self.console.write(b"\r\n")
                return line.decode("utf-8", "replace") + "\n"
            if c in (0x08, 0x7F):
                if line:
                    line.pop()
                    if echo:
                        self.console.write(b"\x08 \x08")
                continue
            if c == CTRL_D and not line:
                return ""
            line.append(c)
            if echo:
                self.console.write(bytes([c]))

    def input(self, prompt=""):
        """builtins.input on the board: the line editor echoes what is typed."""
        if prompt:
            self.console.write(str(prompt).encode())
        line = self.readline(echo=True)
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def isatty(self):
        return True


def format_exception(exc, skip=1):
    """A traceback as MicroPython prints it, without the server's own frames."""
    tb = exc.__traceback__
    for _ in range(skip):
        tb = tb.tb_next if tb is not None else None
    lines = ["Traceback (most recent call last):\n"]
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(_TOOLS_DIR):
            continue  # the board's own machinery (its os, its open) is firmware, not the program
        lines.append('  File "%s", line %d, in %s\n' % (frame.filename, frame.lineno, frame.name))
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines.append('  File "%s", line %d\n' % (exc.filename or "<stdin>", exc.lineno))
        exc_text = "SyntaxError: %s" % (exc.msg,)
    elif isinstance(exc, OSError) and exc.errno:
        # MicroPython's form, which mpremote maps back to the errno
        exc_text = "OSError: [Errno %d] %s" % (exc.errno, errno.errorcode.get(exc.errno, exc.strerror))
    else:
        msg = str(exc)
        exc_text = type(exc).__name__ + (": " + msg if msg else "")
    lines.append(exc_text + "\n")
    return "".join(lines)


class ReplServer:
    """One board: its globals, its REPL modes, soft reset. `board` is the Board that owns the namespace."""

    def __init__(self, console, board):
        self.con = console
        self.board = board
        self.raw = False
        self.history = []

    # ---- running code ----

    def execute(self, source, filename="<stdin>", mode="exec"):
        """Compile and run; return the error text (MicroPython's traceback) or ''."""
        self.con.executing = True
        try:
            code = compile(source, filename, mode, dont_inherit=True)
            exec(code, self.board.globals)
            return ""
        except SystemExit:
            return ""
        except KeyboardInterrupt as e:
            if not self.con.interrupt_pending:
                raise  # Ctrl-C in the terminal that runs the board: stop the board
            self.con.interrupt_pending = False
            return format_exception(e, skip=1)
        except BaseException as e:  # the program's error is reported, never ends the board
            return format_exception(e, skip=1)
        finally:
            self.con.executing = False
            sys.stdout.flush()

    # ---- the loop ----

    def serve(self):
        """Run the REPLs until the process is told to stop."""
        self.soft_reset(first=True)
        while True:
            try:
                if self.raw:
                    self.raw_repl()
                else:
                    self.friendly_repl()
            except KeyboardInterrupt:
                if not self.con.interrupt_pending:
                    raise
                # a Ctrl-C that arrived just as a program ended: the REPL shrugs it off
                self.con.interrupt_pending = False
                self.con.write(b"\r\n" if self.raw else b"\r\n>>> ")

    def soft_reset(self, first=False):
        if not first:
            self.con.write(b"MPY: soft reboot\r\n")
        self.board.reset()
        self._run_file("boot.py")
        if not self.raw:
            self._run_file("main.py")

    def _run_file(self, name):
        path = os.path.join(self.board.fs.root, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                err = self.execute(f.read(), name)
            if err:
                self.con.write(err.replace("\n", "\r\n"))

    def banner(self):
        self.con.write(
            "MicroPython %s on %s; bleboard-virtual with Bumble\r\n"
            'Type "help()" for more information.\r\n' % (MPY_VERSION, self.board.build_date))

    # ---- friendly REPL ----

    def friendly_repl(self):
        self.banner()
        while not self.raw:
            line = self.readline(">>> ")
            if line is None:
                continue
            if isinstance(line, int):
                if line == CTRL_A:
                    self.raw = True
                    self.con.write(b"\r\n")
                    return
                if line == CTRL_B:
                    self.con.write(b"\r\n")
                    return  # the loop prints the banner again
                if line == CTRL_D:
                    self.con.write(b"\r\n")
                    self.soft_reset()
                    return
                if line == CTRL_E:
                    self.paste_mode()
                continue
            self.read_and_run(line)

    def read_and_run(self, line):
        source = line
        while True:
            try:
                complete = codeop.compile_command(source, "<stdin>", "single")
            except (SyntaxError, ValueError, OverflowError):
                complete = True  # let execute() report it
            if complete is not None:
                break
            more = self.readline("... ")
            if more is None:
                return
            if isinstance(more, int):
                return
            source += "\n" + more
            if more == "":
                break
        if source.strip():
            if "\n" not in source:
                self.history.append(source)
            err = self.execute(source + "\n", "<stdin>", "single")
            if err:
                self.con.write(err.replace("\n", "\r\n"))

    def readline(self, prompt):
        """A typed line (str), a control key at an empty line (int), or None after Ctrl-C."""
        self.con.write(prompt)
        line = bytearray()
        hist = len(self.history)
        while True:
            c = self.con.getc()
            if c in (0x0D, 0x0A):
                self.con.write(b"\r\n")
                return line.decode("utf-8", "replace")
            if c == CTRL_C:
                self.con.write(b"\r\n")
                return None
            if c in (CTRL_A, CTRL_B, CTRL_D, CTRL_E):
                if not line:
                    return c
                continue
            if c in (0x08, 0x7F):
                if line:
                    line.pop()
                    self.con.write(b"\x08 \x08")
                continue
            if c == 0x1B:  # escape sequence: up/down walk the history, the rest is ignored
                seq = self._escape()
                if seq in (b"[A", b"[B") and self.history:
                    hist = max(0, hist - 1) if seq == b"[A" else min(len(self.history), hist + 1)
                    new = self.history[hist].encode() if hist < len(self.history) else b""
                    self.con.write(b"\x08 \x08" * len(line) + new)
                    line = bytearray(new)
                continue
            if c == 0x09:  # tab: four spaces (no completion on the virtual board)
                line += b"    "
                self.con.write(b"    ")
                continue
            if c >= 0x20:
                line.append(c)
                self.con.write(bytes([c]))

    def _escape(self):
        seq = bytearray()
        while True:
            c = self.con.getc(timeout=0.05)
            if c is None:
                return bytes(seq)
            seq.append(c)
            if len(seq) > 1 and (0x40 <= c <= 0x7E):
                return bytes(seq)

    def paste_mode(self):
        self.con.write(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
        buf = bytearray()
        while True:
            c = self.con.getc()
            if c == CTRL_C:
                self.con.write(b"\r\n")
                return
            if c == CTRL_D:
                self.con.write(b"\r\n")
                err = self.execute(buf.decode("utf-8", "replace"), "<stdin>")
                if err:
                    self.con.write(err.replace("\n", "\r\n"))
                return
            if c == 0x0D:
                buf.append(0x0A)
                self.con.write(b"\r\n=== ")
            elif c != 0x0A:
                buf.append(c)
                self.con.write(bytes([c]))

    # ---- raw REPL ----

    def raw_repl(self):
        self.con.write(b"raw REPL; CTRL-B to exit\r\n")
        line = bytearray()
        while self.raw:
            if not line:
                self.con.write(b">")
            while True:
                c = self.con.getc()
                if c == CTRL_A:  # start over
                    self.con.write(b"raw REPL; CTRL-B to exit\r\n")
                    line = bytearray()
                    break
                if c == CTRL_B:
                    self.raw = False
                    self.con.write(b"\r\n")
                    return
                if c == CTRL_C:
                    line = bytearray()
                    continue
                if c == CTRL_D:
                    if not line:
                        self.con.write(b"\r\n")
                        self.soft_reset()
                        return  # serve() re-enters raw mode and prints its banner
                    self.con.write(b"OK")
                    self._run_raw(bytes(line))
                    line = bytearray()
                    break
                if c == CTRL_E and not line:
                    if self._raw_paste():
                        break
                    continue
                line.append(c)

    def _run_raw(self, source):
        err = self.execute(source.decode("utf-8", "replace"), "<stdin>")
        self.con.write(b"\x04")
        self.con.write(err.replace("\n", "\r\n").encode())
        self.con.write(b"\x04")

    def _raw_paste(self):
        """Ctrl-E 'A' Ctrl-A: receive code with flow control, then run it. False if not a paste request."""
        if self.con.getc(timeout=1) != ord("A"):
            return False
        if self.con.getc(timeout=1) != CTRL_A:
            self.con.write(b"R\x00")
            return False
        self.con.write(b"R\x01" + struct.pack("<H", RAW_PASTE_WINDOW))
        buf = bytearray()
        remain = RAW_PASTE_WINDOW
        self.con.paste_active = True
        try:
            while True:
                c = self.con.getc(timeout=10)
                if c is None:  # the host went silent mid-paste: abandon it, as a board would time out
                    self.con.write(b"\x04")
                    return True
                if c == CTRL_D:
                    break
                buf.append(c)
                remain -= 1
                if remain == 0:
                    remain = RAW_PASTE_WINDOW
                    self.con.write(b"\x01")
        finally:
            self.con.paste_active = False
        self.con.write(b"\x04")  # end of data acknowledged
        self._run_raw(bytes(buf))
        return True
