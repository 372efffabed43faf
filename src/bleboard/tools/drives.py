"""Find a board's mass-storage drive (UF2 bootloader, DAPLink/ST-LINK probe) and copy firmware onto it.

A UF2 bootloader drive is recognised by INFO_UF2.TXT, a debug probe's drive by
DETAILS.TXT. The copy goes to a temporary name that is renamed at the end, so
a drive that vanishes mid-copy leaves no file that looks complete.
"""

import glob
import os
import sys

MARKERS = {"uf2": "INFO_UF2.TXT", "msd": "DETAILS.TXT"}
ENV_MOUNTS = "BLEBOARD_DRIVE_ROOTS"  # os.pathsep-separated dirs holding (or being) drives
CHUNK = 32 * 512  # 32 UF2 blocks per write


class DriveError(OSError):
    """No drive, several drives, or the drive went away during the copy."""


class NoDrive(DriveError):
    """The bootloader or probe drive is not mounted (the board is not ready, not a bad argument)."""


def mount_roots():
    """Where removable drives get mounted on Linux and macOS (or the override)."""
    env = os.environ.get(ENV_MOUNTS)
    if env:
        return [p for p in env.split(os.pathsep) if p]
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or _login_name()
    per_user = [f"/media/{user}", f"/run/media/{user}"] if user else []
    return per_user + ["/media", "/Volumes"]


def _login_name():
    """The user's name when the environment does not say (services, containers)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return ""


def _has_marker(path, marker):
    try:
        return any(n.upper() == marker for n in os.listdir(path))
    except OSError:
        return False


def find(method, roots=None):
    """Every mounted drive carrying the marker file of method ('uf2' or 'msd')."""
    marker = MARKERS[method]
    found = []
    for root in roots if roots is not None else mount_roots():
        for cand in [root] + sorted(glob.glob(os.path.join(glob.escape(root), "*"))):
            if os.path.isdir(cand) and _has_marker(cand, marker) and cand not in found:
                found.append(cand)
    return found


def info(drive):
    """The key: value lines of INFO_UF2.TXT (Model, Board-ID, ...), or {} when unreadable."""
    out = {}
    for name in os.listdir(drive):
        if name.upper() in ("INFO_UF2.TXT", "DETAILS.TXT"):
            try:
                with open(os.path.join(drive, name), encoding="utf-8", errors="replace") as f:
                    for line in f:
                        key, sep, value = line.partition(":")
                        if sep:
                            out[key.strip()] = value.strip()
            except OSError:
                pass
    return out


def choose(method, board, drive=None, roots=None):
    """The one drive to write to: the given one (checked), or the only one mounted."""
    marker = MARKERS[method]
    if drive:
        if not _has_marker(drive, marker):
            raise NoDrive(f"--drive {drive}: no {marker} there; is the board in its bootloader?")
        return drive
    drives = find(method, roots)
    if not drives:
        where = ", ".join(roots if roots is not None else mount_roots())
        hint = "double-tap the reset button so the bootloader drive appears" if method == "uf2" \
            else "plug in the board's debug USB port"
        raise NoDrive(f"no drive with {marker} mounted under {where}: {hint} (or pass --drive DIR)")
    if len(drives) > 1:
        key = board["name"].lower()
        named = [d for d in drives if key in " ".join(info(d).values()).lower()]
        if len(named) == 1:
            return named[0]
        raise DriveError("several bootloader drives are mounted (" + ", ".join(drives) + "): choose one with --drive")
    return drives[0]


def progress_bar(done, total, out=None):
    """A one-line text bar on stderr, redrawn in place."""
    out = out or sys.stderr
    width = 30
    frac = done / total if total else 1.0
    fill = int(width * frac)
    out.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {frac * 100:5.1f}% {done // 1024}/{total // 1024} KiB")
    if done >= total:
        out.write("\n")
    out.flush()


def copy(src, drive, on_progress=progress_bar, name=None, via_temp=True):
    """Copy src onto drive as name, via a temporary name; raise DriveError if the drive goes away.

    A UF2 bootloader reboots as soon as the last block is in, so an error after
    every byte was written (closing, renaming on a vanished drive) means success.
    via_temp=False writes the final name directly: DAPLink and ST-LINK drives
    judge a file by its name's extension and would reject a temporary name.
    """
    name = name or os.path.basename(src)
    final = os.path.join(drive, name)
    tmp = os.path.join(drive, ".bleboard-" + name + ".part") if via_temp else final
    total = os.path.getsize(src)
    done = 0
    marker = next((m for m in MARKERS.values() if _has_marker(drive, m)), None)
    try:
        with open(src, "rb") as inp, open(tmp, "wb") as out:
            while True:
                chunk = inp.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
                if done < total and not (os.path.isdir(drive) and (marker is None or _has_marker(drive, marker))):
                    raise FileNotFoundError(f"{drive} is gone")
            os.fsync(out.fileno())
        if tmp != final:
            os.replace(tmp, final)
    except OSError as e:
        _discard(tmp)
        if done >= total and not os.path.isdir(drive):
            return final  # the bootloader took every block and rebooted
        raise DriveError(
            f"drive {drive} went away after {done} of {total} bytes ({e.strerror or e}); "
            "the board is not flashed: put it back into its bootloader and flash again") from None
    return final


def _discard(path):
    try:
        os.remove(path)
    except OSError:
        pass
