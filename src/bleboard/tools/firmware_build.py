"""Build MicroPython's unix port with bluetooth and our frozen libraries, and cache the result.

The unix port's C `bluetooth` module over NimBLE or BTstack, talking H4 to the
tty named by $MICROPYBTUART, is the closest thing to a real board that runs
here: same binding, same host stack, same event order and limits. The build
takes MicroPython's source from a directory (a git checkout of a tag) or a
release tarball, our variant from ports/unix-ble/<stack>/ and our frozen
libraries from frozen/manifest.py. Nothing of MicroPython's lives in the repo.

Builds are cached outside the repository, one directory per key, where the key
hashes the MicroPython source, the stack, our variant files and every file
our manifest freezes; a changed aioble file gives a new firmware, an
unchanged tree reuses the old one. A lock file keeps two processes (two test
sessions, say) from building the same key at once.
"""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time

STACKS = ("nimble", "btstack")
PORTS = ("unix",)
MICROPY_DIR = "MICROPY_DIR"  # environment: MicroPython source directory or release tarball
CACHE_ENV = "BLEBOARD_FIRMWARE_CACHE"  # environment: where builds are kept
BUILD_TIMEOUT = 900.0  # s for one make run (a clean build is well under a minute on 2 cores)
LOCK_TIMEOUT = 1200.0  # s to wait for another process building the same firmware
KEY_VERSION = "1"  # bump when the way builds are made changes

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VARIANTS = os.path.join(REPO, "ports", "unix-ble")
FROZEN_MANIFEST = os.path.join(VARIANTS, "manifest.py")


class FirmwareBuildError(Exception):
    """The firmware cannot be built: no source, no toolchain, or make failed (the message says which)."""


class SourceMissing(FirmwareBuildError):
    """No MicroPython source was found; tests skip with this message."""


def cache_root():
    """Where builds are kept: $BLEBOARD_FIRMWARE_CACHE, else ~/.cache/bleboard/firmware (XDG respected)."""
    if os.environ.get(CACHE_ENV):
        return os.path.abspath(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bleboard", "firmware")


def default_source():
    """$MICROPY_DIR, else the newest release tarball in ../shared/vendor/ beside the repository, else None."""
    if os.environ.get(MICROPY_DIR):
        return os.environ[MICROPY_DIR]
    found = sorted(glob.glob(os.path.join(os.path.dirname(REPO), "shared", "vendor", "micropython-*.tar.gz")))
    return found[-1] if found else None


def check_args(port, stack):
    if port not in PORTS:
        raise ValueError("port must be one of %s, not %r" % (", ".join(PORTS), port))
    if stack not in STACKS:
        raise ValueError("stack must be one of %s, not %r" % (", ".join(STACKS), stack))


def missing_tools():
    """Programs the build needs that are not on PATH."""
    return [tool for tool in ("make", "gcc") if shutil.which(tool) is None]


def _hash_file(h, path):
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def source_id(source):
    """A hash naming the MicroPython source: the tarball's bytes, or a checkout's commit and changes."""
    h = hashlib.sha256()
    if os.path.isfile(source):
        _hash_file(h, source)
        return "tar-" + h.hexdigest()[:16]
    git = shutil.which("git")
    if git and os.path.exists(os.path.join(source, ".git")):
        head = subprocess.run([git, "-C", source, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30)
        changes = subprocess.run(
            [git, "-C", source, "status", "--porcelain", "--untracked-files=no"], capture_output=True, timeout=60
        )
        h.update(head.stdout.encode() + changes.stdout)
        if changes.stdout:
            diff = subprocess.run([git, "-C", source, "diff", "HEAD"], capture_output=True, timeout=60)
            h.update(diff.stdout)
        return "git-" + h.hexdigest()[:16]
    # A plain directory: its path and the version header stand for it.
    h.update(os.path.abspath(source).encode())
    _hash_file(h, os.path.join(source, "py", "mpconfig.h"))
    return "dir-" + h.hexdigest()[:16]


def frozen_files():
    """Every file that decides what the firmware contains on our side: variant files and frozen sources."""
    from bleboard.tools import manifest

    files = set()
    for dirpath, _, names in os.walk(VARIANTS):
        files.update(os.path.join(dirpath, n) for n in names if not n.endswith((".pyc", ".md")))
    for dirpath, _, names in os.walk(os.path.join(REPO, "frozen")):
        files.update(os.path.join(dirpath, n) for n in names if n == "manifest.py")
    files.update(src for src, _, _ in manifest.read(FROZEN_MANIFEST, path_vars={}).files)
    return sorted(files)


def build_key(source, port, stack):
    h = hashlib.sha256()
    h.update(("%s|%s|%s|%s\n" % (KEY_VERSION, source_id(source), port, stack)).encode())
    for path in frozen_files():
        h.update(os.path.relpath(path, REPO).encode() + b"\0")
        _hash_file(h, path)
    return "%s-%s-%s" % (port, stack, h.hexdigest()[:20])


class _Lock:
    """An exclusive flock on a file, waited for with a timeout (without spinning: a blocking flock in a thread)."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self
        except BlockingIOError:
            pass
        got = threading.Event()

        def take():
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            got.set()

        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        if not got.wait(self.timeout):
            raise FirmwareBuildError("another build of %s held its lock for %d s" % (self.path, self.timeout))
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing drops the lock


def _run(argv, log, cwd=None, env=None):
    log.write(("$ %s\n" % " ".join(argv)).encode())
    log.flush()
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise FirmwareBuildError("%s did not finish within %d s" % (argv[0], BUILD_TIMEOUT)) from None
    if proc.returncode != 0:
        log.flush()
        with open(log.name, "rb") as f:
            tail = f.read()[-3000:].decode("utf-8", "replace")
        command = " ".join(argv[:3])
        raise FirmwareBuildError("%s failed (status %d); log %s ends:\n%s" % (command, proc.returncode, log.name, tail))


def _unpack(tarball, root):
    """The tarball's single top directory, extracted once under root/src/."""
    dest = os.path.join(root, "src", source_id(tarball))
    if os.path.isdir(dest):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with _Lock(dest + ".lock", LOCK_TIMEOUT):
        if os.path.isdir(dest):
            return dest
        tmp = tempfile.mkdtemp(prefix="unpack-", dir=os.path.dirname(dest))
        try:
            with tarfile.open(tarball) as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, filter="data")
                else:
                    tar.extractall(tmp)
            tops = os.listdir(tmp)
            if len(tops) != 1 or not os.path.isdir(os.path.join(tmp, tops[0], "ports", "unix")):
                raise FirmwareBuildError("%s is not a MicroPython source tarball (no */ports/unix)" % tarball)
            os.rename(os.path.join(tmp, tops[0]), dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def resolve_source(source=None):
    """A MicroPython source directory, unpacking a tarball if that is what was named."""
    source = source or default_source()
    if not source:
        raise SourceMissing(
            "no MicroPython source: set %s to a MicroPython checkout or release tarball "
            "(none found in ../shared/vendor/ beside the repository)" % MICROPY_DIR
        )
    if not os.path.exists(source):
        raise SourceMissing("MicroPython source %s does not exist (from %s or the default)" % (source, MICROPY_DIR))
    return source


def source_dir(source=None):
    """The MicroPython source as a directory (a tarball is unpacked into the cache once)."""
    source = resolve_source(source)
    if os.path.isfile(source):
        root = cache_root()
        os.makedirs(root, exist_ok=True)
        return _unpack(source, root)
    return os.path.abspath(source)


def cached(stack="nimble", port="unix", source=None):
    """The cached binary for this source and configuration, or None if it has not been built."""
    check_args(port, stack)
    binary = os.path.join(cache_root(), build_key(resolve_source(source), port, stack), "micropython")
    return binary if os.path.isfile(binary) else None


def build(stack="nimble", port="unix", source=None, jobs=None, force=False, log=None):
    """Return the path of the built firmware binary, building it unless the cache has it.

    `log`, if given, is called with progress lines (one per step).
    """
    check_args(port, stack)
    source = resolve_source(source)
    missing = missing_tools()
    if missing:
        raise FirmwareBuildError("the firmware build needs %s on PATH" % " and ".join(missing))
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    key = build_key(source, port, stack)
    out_dir = os.path.join(root, key)
    binary = os.path.join(out_dir, "micropython")
    if os.path.isfile(binary) and not force:
        return binary
    with _Lock(out_dir + ".lock", LOCK_TIMEOUT):
        if os.path.isfile(binary) and not force:
            return binary  # another process built it while we waited
        src = source_dir(source)
        work = tempfile.mkdtemp(prefix="build-%s-" % key, dir=root)
        try:
            seconds = _make(src, stack, work, jobs or os.cpu_count() or 1, log)
            os.makedirs(out_dir, exist_ok=True)
            tmp_bin = os.path.join(out_dir, ".micropython.new")
            shutil.copy2(os.path.join(work, "build", "micropython"), tmp_bin)
            os.replace(tmp_bin, binary)
            info = {"key": key, "source": source, "stack": stack, "port": port, "seconds": round(seconds, 1)}
            with open(os.path.join(out_dir, "build.json"), "w") as f:
                json.dump(info, f, indent=1)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return binary


def build_info(binary):
    """What build.json recorded beside a built binary (key, source, seconds), or {}."""
    try:
        with open(os.path.join(os.path.dirname(binary), "build.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _make(src, stack, work, jobs, log):
    """mpy-cross, then the unix port with our variant, all build output under `work`; returns seconds taken."""
    say = log or (lambda line: None)
    t0 = time.monotonic()
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BUILD", "VARIANT", "VARIANT_DIR", "FROZEN_MANIFEST"):
        env.pop(var, None)  # an outer make (`make firmware`) must not steer MicroPython's
    mpy_cross = os.path.join(work, "mpy-cross")
    libdir = os.path.join(src, "lib", "micropython-lib")
    if not os.path.isfile(os.path.join(libdir, "README.md")):
        # The release snapshot has no micropython-lib and our manifest requires nothing
        # from it, but MicroPython's make insists on its README being there.
        libdir = os.path.join(work, "no-micropython-lib")
        os.makedirs(libdir)
        with open(os.path.join(libdir, "README.md"), "w") as f:
            f.write("Empty: bleboard's firmware manifest requires nothing from micropython-lib.\n")
    with open(os.path.join(work, "build.log"), "wb") as out:
        say("building mpy-cross from %s" % src)
        _run(["make", "-C", os.path.join(src, "mpy-cross"), "-j%d" % jobs, "BUILD=" + mpy_cross], out, env=env)
        say("building the unix port with %s (log %s)" % (stack, out.name))
        _run(
            [
                "make", "-C", os.path.join(src, "ports", "unix"), "-j%d" % jobs,
                "VARIANT_DIR=" + os.path.join(VARIANTS, stack),
                "BUILD=" + os.path.join(work, "build"),
                "FROZEN_MANIFEST=" + FROZEN_MANIFEST,
                "MPY_LIB_DIR=" + libdir,
                "MICROPY_MPYCROSS=" + os.path.join(mpy_cross, "mpy-cross"),
                "MICROPY_MPYCROSS_DEPENDENCY=" + os.path.join(mpy_cross, "mpy-cross"),
            ],
            out,
            env=env,
        )
        try:
            shutil.copy2(out.name, os.path.join(os.path.dirname(work), "last-build.log"))
        except OSError:
            pass
    return time.monotonic() - t0
