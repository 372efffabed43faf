"""Copy a `bleboard freeze` bundle onto a board with mpremote, only the files that changed.

The board hashes what it has (hashlib.sha256 in one exec, or sizes where the
firmware has no hashlib) and we compare with the bundle's index. Each file is
written under a temporary name and renamed, so a port that vanishes mid-copy
leaves every file either old or new, never torn; the board's copy of the
index is written last.
"""

import json
import os
import posixpath

from bleboard.tools import freeze

DEVICE_INDEX = "/.bleboard-bundle.json"

# runs on the board: one line "path hash" per file ('-' missing, 'size:N' without hashlib)
_HASH_SCRIPT = """
import os
try:
 import hashlib, binascii
except ImportError:
 hashlib = None
def _bb_hash(p):
 try:
  st = os.stat(p)
 except OSError:
  return '-'
 if hashlib is None:
  return 'size:%d' % st[6]
 h = hashlib.sha256()
 b = bytearray(512)
 m = memoryview(b)
 with open(p, 'rb') as f:
  while True:
   n = f.readinto(b)
   if not n:
    break
   h.update(m[:n])
 return binascii.hexlify(h.digest()).decode()
for _p in {paths!r}:
 print(_p, _bb_hash(_p))
"""

_MPY_SCRIPT = "import sys\nprint(getattr(sys.implementation, '_mpy', None))"


class DeployError(RuntimeError):
    """The deploy did not finish; the message carries the board's output."""


def _board_error(what, e):
    out = getattr(e, "error_output", "") or str(e)
    return DeployError(f"{what} failed on the board:\n{out.strip()}")


def plan(index, device_hashes, device_index):
    """(files to write, files to remove) from the bundle index and what the board reported."""
    write = []
    for rel, meta in sorted(index["files"].items()):
        have = device_hashes.get("/" + rel, "-")
        if have.startswith("size:"):
            same = int(have[5:]) == meta["size"] and device_index.get("files", {}).get(rel, {}).get("sha256") == meta["sha256"]
        else:
            same = have == meta["sha256"]
        if not same:
            write.append(rel)
    old = set(device_index.get("files", {})) if isinstance(device_index, dict) else set()
    remove = sorted(old - set(index["files"]))
    return write, remove


def check_format(index, mpy_flags):
    """Refuse a bundle the board's MicroPython cannot import (sys.implementation._mpy)."""
    if mpy_flags is None or not index.get("mpy_version"):
        return  # the virtual board (CPython) or an old firmware: nothing to compare
    version, sub, arch = mpy_flags & 0xFF, (mpy_flags >> 8) & 3, mpy_flags >> 10
    want = index["mpy_version"]
    if str(version) != want.split(".")[0]:
        raise DeployError(f"the board loads .mpy v{version}.{sub}, the bundle is v{want}: "
                          f"re-freeze with --version matching the board's MicroPython")
    if index.get("arch") and arch and freeze.ARCHES[arch] != index["arch"]:
        raise DeployError(f"the board's architecture is {freeze.ARCHES[arch]}, the bundle's {index['arch']}: "
                          f"re-freeze with --arch {freeze.ARCHES[arch]}")


class Deployer:
    """One deploy over an mpremote transport (anything with exec/fs_writefile/fs_mkdir ...)."""

    def __init__(self, transport, log=print):
        self.t = transport
        self.log = log

    def _exec(self, code, what):
        from mpremote.transport import TransportError

        try:
            return self.t.exec(code)
        except TransportError as e:
            raise _board_error(what, e) from None

    def device_state(self, index):
        paths = ["/" + rel for rel in sorted(index["files"])]
        out = self._exec(_HASH_SCRIPT.format(paths=paths), "hashing the board's files").decode()
        hashes = {}
        for line in out.splitlines():
            path, _, value = line.strip().rpartition(" ")
            if path:
                hashes[path] = value
        try:
            raw = self._exec(f"print(open({DEVICE_INDEX!r}).read())", "reading the board's index")
            device_index = json.loads(raw.decode())
        except (DeployError, ValueError):
            device_index = {}
        mpy = self._exec(_MPY_SCRIPT, "reading sys.implementation").decode().strip()
        return hashes, device_index, (int(mpy) if mpy.isdigit() else None)

    def ensure_dirs(self, rels):
        dirs = sorted({posixpath.dirname("/" + r) for r in rels} - {"/"}, key=len)
        code = "import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n" % (
            _with_parents(dirs),)
        self._exec(code, "creating directories")

    def write_file(self, bundle, rel):
        from mpremote.transport import TransportError

        dest = "/" + rel
        tmp = dest + ".tmp"
        with open(os.path.join(bundle, *rel.split("/")), "rb") as f:
            data = f.read()
        try:
            self.t.fs_writefile(tmp, data)
        except TransportError as e:
            raise _board_error(f"writing {dest}", e) from None
        self._exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\nos.rename(%r, %r)" % (dest, tmp, dest),
                   f"renaming {tmp}")

    def remove(self, rels):
        code = "import os\nfor p in %r:\n try:\n  os.remove(p)\n except OSError:\n  pass\n" % (["/" + r for r in rels],)
        self._exec(code, "removing stale files")

    def write_index(self, index):
        data = json.dumps({"files": index["files"], "mpy_version": index.get("mpy_version"),
                           "arch": index.get("arch")}, sort_keys=True).encode()
        self.t.fs_writefile(DEVICE_INDEX + ".tmp", data)
        self._exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\nos.rename(%r, %r)" % (
            DEVICE_INDEX, DEVICE_INDEX + ".tmp", DEVICE_INDEX), "writing the index")

    def deploy(self, bundle, dry_run=False, on_file=None):
        """Bring the board in line with bundle; return (written, removed, unchanged count)."""
        index = freeze.load_index(bundle)
        hashes, device_index, mpy = self.device_state(index)
        check_format(index, mpy)
        write, remove = plan(index, hashes, device_index)
        unchanged = len(index["files"]) - len(write)
        if dry_run:
            return write, remove, unchanged
        if write:
            self.ensure_dirs(write)
        for n, rel in enumerate(write, 1):
            self.write_file(bundle, rel)
            self.log(f"  [{n}/{len(write)}] /{rel} ({index['files'][rel]['size']} bytes)")
            if on_file:
                on_file(n, rel)
        if remove:
            self.remove(remove)
            for rel in remove:
                self.log(f"  removed /{rel}")
        if write or remove or not device_index:
            self.write_index(index)
        return write, remove, unchanged


def _with_parents(dirs):
    out = []
    for d in dirs:
        parts = d.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/" + "/".join(parts[:i])
            if p not in out:
                out.append(p)
    return out


def run(port, bundle, dry_run=False, log=print, on_file=None, baudrate=115200):
    """Open the port with mpremote, deploy, leave the board at its friendly REPL."""
    try:
        import serial
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
    except ImportError as e:
        raise DeployError(f"{e.name} is not installed: pip install 'bleboard[tools]' (or pip install mpremote)") from None

    if not port.startswith(("socket://", "rfc2217://")) and not os.path.exists(port):
        raise DeployError(f"--port {port}: no such serial port (is the board plugged in?)")
    done = []

    def count(n, rel):
        done.append(rel)
        if on_file:
            on_file(n, rel)

    try:
        t = SerialTransport(port, baudrate=baudrate)
    except TransportError as e:
        raise DeployError(f"--port {port}: {e}") from None
    try:
        t.enter_raw_repl(soft_reset=True)
        result = Deployer(t, log).deploy(bundle, dry_run=dry_run, on_file=count)
        t.exit_raw_repl()
        return result
    except TransportError as e:
        raise DeployError(f"lost the board's REPL on {port}: {e}; {len(done)} file(s) were written "
                          "completely, run deploy again for the rest") from None
    except (serial.SerialException, OSError) as e:
        raise DeployError(f"serial port {port} went away during deploy ({e}); {len(done)} file(s) "
                          "were written completely (each is written to .tmp and renamed), "
                          "run deploy again for the rest") from None
    finally:
        try:
            t.close()
        except (OSError, serial.SerialException):
            pass
