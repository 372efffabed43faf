"""Zero configuration: which shared radio a board joins, and starting the default one.

* `BLEBOARD_AIR=unix:PATH` or `tcp:HOST:PORT` names a radio the user runs
  (`bleboard air --listen ...`); if it does not answer, that is an error:
  nothing is started for an address the user chose.
* Otherwise the board joins the per-user default radio, a unix socket
  `air.sock` in `$BLEBOARD_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/bleboard`,
  else `/tmp/bleboard-<uid>` (directory mode 0700).  If nothing answers
  there, `ensure_default_radio()` starts `bleboard air --idle-exit 10`
  detached from the caller; several boards starting at once may each start
  one, the server's flock on `air.sock.lock` lets exactly one of them serve,
  and the others exit quietly.  It exits 10 s after its last board left
  ($BLEBOARD_AIR_IDLE_EXIT seconds if set).
* Link timing is a property of the radio, so `BLEBOARD_LATENCY` (`bleboard run --latency`)
  picks among default radios: `board` (the default) is `air.sock`, `fast` is
  `air-fast.sock`, a number of milliseconds N is `air-Nms.sock`, each started with that
  `--latency`. With BLEBOARD_AIR set, the radio's own timing applies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat
import subprocess
import sys
import threading
import time

from bleboard.radio.errors import HCISpecError, HCITransportError

ENV_AIR = "BLEBOARD_AIR"
ENV_RUNTIME_DIR = "BLEBOARD_RUNTIME_DIR"
ENV_IDLE_EXIT = "BLEBOARD_AIR_IDLE_EXIT"  # seconds the auto-started radio lingers (default 10)
ENV_LATENCY = "BLEBOARD_LATENCY"  # board | fast | milliseconds: which default radio to join
SOCKET_NAME = "air.sock"
DEFAULT_IDLE_EXIT_S = 10
START_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 1.0


def default_dir(create: bool = False) -> str:
    """The per-user directory of the default radio (created private when `create`)."""
    base = os.environ.get(ENV_RUNTIME_DIR)
    if base:
        path = base
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "bleboard")
    else:
        path = os.path.join("/tmp", f"bleboard-{os.getuid()}")
    if create:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise HCITransportError(f"{path} is not a directory owned by this user; set {ENV_RUNTIME_DIR}")
        if info.st_mode & 0o077:
            os.chmod(path, 0o700)
    return path


def default_latency() -> str:
    """The link timing asked for with BLEBOARD_LATENCY, checked: board, fast or milliseconds."""
    value = (os.environ.get(ENV_LATENCY) or "board").strip().lower()
    if value in ("board", "fast"):
        return value
    try:
        ms = float(value)
    except ValueError:
        raise HCISpecError(f"{ENV_LATENCY}={value!r}: use board, fast or a number of milliseconds") from None
    if not 0 <= ms <= 4000:
        raise HCISpecError(f"{ENV_LATENCY}={value!r}: milliseconds must be 0-4000")
    return "%g" % ms


def default_socket_path(create: bool = False) -> str:
    latency = default_latency()
    if latency == "board":
        name = SOCKET_NAME
    elif latency == "fast":
        name = "air-fast.sock"
    else:
        name = "air-%sms.sock" % latency
    return os.path.join(default_dir(create), name)


def air_address() -> str:
    """The radio this process joins: $BLEBOARD_AIR, else the default `unix:` socket."""
    chosen = os.environ.get(ENV_AIR)
    if chosen:
        return chosen
    return "unix:" + default_socket_path()


def is_default_address() -> bool:
    """True when no BLEBOARD_AIR is set, so the default radio may be started on demand."""
    return not os.environ.get(ENV_AIR)


def parse_air_address(address: str) -> tuple[str, object]:
    """("unix", path) or ("tcp", (host, port)); HCISpecError (a ValueError) naming the bad address."""
    from bleboard.radio.server import parse_listen_address

    try:
        return parse_listen_address(address)
    except ValueError as error:
        raise HCISpecError(f"radio address: {error}") from None


def bumble_spec(address: str) -> str:
    """The Bumble transport spec that connects to a radio address."""
    kind, target = parse_air_address(address)
    if kind == "unix":
        return "unix:" + target
    host, port = target
    return f"tcp-client:{host}:{port}"


def answers(address: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if a radio server accepts connections at `address` right now."""
    kind, target = parse_air_address(address)
    family = socket.AF_UNIX if kind == "unix" else socket.AF_INET6 if ":" in target[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(target)
        except OSError:
            return False
    return True


def _spawn_server(path: str) -> subprocess.Popen:
    """Start `bleboard air` for the default socket, in its own session, stdio on /dev/null."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    command = [
        sys.executable, "-m", "bleboard", "air",
        "--listen", "unix:" + path,
        "--idle-exit", os.environ.get(ENV_IDLE_EXIT) or str(DEFAULT_IDLE_EXIT_S),
        "--latency", default_latency(),
        "--auto",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env=env,
    )
    # Reap it whenever it exits (it outlives us if we exit first); never block on it.
    threading.Thread(target=process.wait, name="bleboard-air-reaper", daemon=True).start()
    return process


def ensure_default_radio(timeout: float = START_TIMEOUT_S) -> str:
    """Make sure the default radio answers, starting it if needed; returns its address.

    Raises HCITransportError when BLEBOARD_AIR names a radio that does not
    answer, or when the default radio is not accepting within `timeout`.
    """
    if not is_default_address():
        address = air_address()
        if not answers(address):
            raise HCITransportError(
                f"{ENV_AIR}={address} does not answer; start it with 'bleboard air --listen {address}' "
                f"or unset {ENV_AIR} to use the default radio"
            )
        return address
    path = default_socket_path(create=True)
    address = "unix:" + path
    parse_air_address(address)  # a too-long socket path is reported here, clearly
    if answers(address):
        return address
    deadline = time.monotonic() + timeout
    # Boards starting together take turns: the first starts the server, the
    # others find it answering.  (The server's own lock is the second line.)
    with _spawn_lock(path + ".spawn", deadline):
        if answers(address):
            return address
        return _start_and_wait(path, address, deadline, timeout)


@contextlib.contextmanager
def _spawn_lock(lock_path: str, deadline: float):
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise HCITransportError(f"timed out waiting for another board to start the radio ({lock_path})") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _start_and_wait(path: str, address: str, deadline: float, timeout: float) -> str:
    process = _spawn_server(path)
    delay = 0.005
    while True:
        if answers(address):
            return address
        if process.returncode not in (None, 0):
            raise HCITransportError(
                f"the default radio server failed to start (exit status {process.returncode}); "
                f"run 'bleboard air --listen {address} --verbose' to see why"
            )
        if time.monotonic() >= deadline:
            raise HCITransportError(
                f"the default radio at {address} did not start within {timeout:.0f} s; "
                f"run 'bleboard air --listen {address} --verbose' to see why"
            )
        # The server's only readiness signal is its socket: look again soon, backing off.
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
