"""A virtual board on a pseudo-terminal: MicroPython's REPL where a USB board's serial port would be.

`serve()` turns this process into the board (the runtime's modules, a
filesystem directory as "/", the REPL on a new pty). `running_board()` starts
one as a subprocess and yields its device path: tests and the multitest runner
drive it with mpremote exactly as they would drive /dev/ttyACM0.
"""

import builtins
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tty
import types

from bleboard.tools import repl_server
from bleboard.tools.vfs import BoardFS

BOOT_TIMEOUT = 20.0  # seconds for a board process to print its device path
# Pure-Python libraries a real board has frozen into its firmware: a soft reset re-imports
# them fresh there (their module state is on the heap), so it does here.
FROZEN_LIBRARIES = ("aioble", "_bleio", "adafruit_ble", "adafruit_bluefruit_connect")


class Board:
    """The board's state that a soft reset clears: globals, modules from its filesystem, the BLE stack."""

    def __init__(self, fs_root):
        self.fs = BoardFS(fs_root)
        self.os_module = self.fs.module()
        self.vfs_module = self.fs.vfs_module()
        self.build_date = time.strftime("%Y-%m-%d")
        self.globals = {}
        self.boot_path = list(sys.path)  # a soft reset puts sys.path back, as a board does

    def reset(self):
        bt = sys.modules.get("bluetooth")
        if bt is not None and hasattr(bt, "_soft_reset"):
            try:
                bt._soft_reset()  # radio off, a fresh BLE() with no handler, same address
            except Exception as e:
                logging.getLogger("bleboard.board").warning("resetting BLE on soft reset: %s", e)
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None) or ""
            on_board = origin and os.path.realpath(origin).startswith(self.fs.root + os.sep)
            if on_board or _frozen(name):
                del sys.modules[name]  # re-imported fresh, as after a board's reset
        sys.path[:] = self.boot_path
        self.fs.chdir("/")
        main = types.ModuleType("__main__")
        env = dict(vars(builtins))
        env["open"] = self.fs.open
        env["__import__"] = self._import
        env["help"] = _help
        if hasattr(sys.stdin, "input"):
            env["input"] = sys.stdin.input
        main.__builtins__ = env
        sys.modules["__main__"] = main
        self.globals = main.__dict__

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in ("os", "uos"):
            return self.os_module
        if level == 0 and name == "vfs":
            return self.vfs_module
        return builtins.__import__(name, globals, locals, fromlist, level)


def _frozen(name):
    top = name.split(".", 1)[0]
    return top in FROZEN_LIBRARIES or top.startswith("adafruit_ble_")


def _help(obj=None):
    if obj is not None:
        print(obj.__doc__ or "no help for %r" % (obj,))
        return
    print("Welcome to bleboard's virtual MicroPython board.\n\n"
          "bluetooth, aioble, _bleio, machine, micropython and time.sleep_ms work as on a board.\n"
          "Control commands:\n  CTRL-A  raw REPL\n  CTRL-B  friendly REPL\n  CTRL-C  interrupt\n"
          "  CTRL-D  soft reset\n  CTRL-E  paste mode\n")


def open_pty():
    """(master fd, slave fd, device path), the slave in raw mode like a USB CDC port."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def serve(fs_root, announce=None, fds=None):
    """Become the virtual board: never returns (ends on SIGTERM / SIGINT from the host terminal).

    machine.reset() re-executes the process (see bleboard.runtime.session) as
    `bleboard run -c "...resume(...)"`, handing over the pty's file descriptors,
    so the board comes back on the same device path, as a board on a fixed port.
    """
    from bleboard.runtime import compat, mpjson, precedence, scheduler, session, stdio

    fs_root = os.path.realpath(fs_root)
    os.makedirs(os.path.join(fs_root, "lib"), exist_ok=True)
    logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING, format="bleboard board: %(message)s")
    precedence.install(fs_root)
    sys.path.insert(1, os.path.join(fs_root, "lib"))  # '' and '/lib', as on a board
    if "" not in sys.path:
        sys.path.insert(0, "")  # the board's filesystem root is the working directory
    compat.install()
    mpjson.install()
    scheduler.default()  # on the main thread: irq handlers run between the REPL's bytecodes
    os.chdir(fs_root)
    if fds is None:
        master, slave, path = open_pty()
        session.configure(["-c", _RESUME % (fs_root, master, slave)])
    else:
        master, slave = fds  # after a hard reset; `bleboard run` configured the session already
        path = os.ttyname(slave)
    os.set_inheritable(master, True)
    os.set_inheritable(slave, True)
    if announce:
        announce(path)
    console = repl_server.Console(master)
    sys.stdout = sys.stderr = repl_server.ConsoleOut(console)
    stdio.guard(scheduler.default())  # a print is whole: an irq handler's print waits for it
    sys.stdin = repl_server.ConsoleIn(console)
    try:
        repl_server.ReplServer(console, Board(fs_root)).serve()
    finally:
        console.close()
        os.close(slave)
        os.close(master)


_RESUME = "from bleboard.tools import pty_board; pty_board.resume(%r, %d, %d)"


def resume(fs_root, master, slave):
    """The board after machine.reset(): same filesystem, same pty."""
    serve(fs_root, fds=(master, slave))


@contextlib.contextmanager
def running_board(fs=None, env=None, timeout=BOOT_TIMEOUT, extra_args=()):
    """Start `bleboard board` as a subprocess; yield (device path, Popen); stop it afterwards."""
    tmp = None
    if fs is None:
        tmp = fs = tempfile.mkdtemp(prefix="bleboard-fs-")
    cmd = [sys.executable, "-m", "bleboard", "board", "--fs", str(fs), *extra_args]
    errlog = tempfile.TemporaryFile()  # a file, not a pipe: a chatty board must never block on it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errlog, stdin=subprocess.DEVNULL,
                            env=None if env is None else dict(os.environ, **env), start_new_session=True,
                            preexec_fn=_die_with_parent)
    proc.errlog = errlog
    try:
        path = _read_device_path(proc, timeout)
        yield path, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        proc.stdout.close()
        errlog.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _die_with_parent():
    """In the child: SIGTERM when the process that started the board dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_device_path(proc, timeout):
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            raise RuntimeError("virtual board did not start within %.0f s" % timeout)
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            proc.wait(5)
            proc.errlog.seek(0)
            err = proc.errlog.read().decode(errors="replace")
            raise RuntimeError("virtual board exited at start (status %s):\n%s" % (proc.returncode, err))
        line += chunk
    sel.close()
    return line.decode().strip()
