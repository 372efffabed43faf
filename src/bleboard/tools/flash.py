"""Turn (board, firmware file) into the exact flashing action: a command line or a drive copy.

The method comes from the board database and the kind of file; the file is
checked against the board's chip first, so a wrong file never reaches a tool.
"""

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from importlib import metadata

from bleboard.tools import drives

# which firmware kinds each method takes
ACCEPTS = {
    "uf2": {"uf2"},
    "esptool": {"esp-image"},
    "nrfutil": {"dfu-zip"},
    "adafruit-nrfutil": {"dfu-zip"},
    "west": {"ihex", "bin"},
    "dfu-util": {"dfuse", "bin"},
    "msd": {"ihex", "bin"},
    "teensy": {"ihex"},
    "commander": {"ihex", "bin"},
    "sdcard": {"bin"},
}
# how to get each external tool when it is missing
INSTALL = {
    "nrfutil": "pip install nrfutil  (Nordic's legacy Python nrfutil 6.x; needs Python <= 3.10 on some systems)",
    "adafruit-nrfutil": "pip install adafruit-nrfutil",
    "west": "pip install west, inside a Zephyr workspace (https://docs.zephyrproject.org/latest/develop/getting_started/)",
    "dfu-util": "apt install dfu-util  /  brew install dfu-util",
    "teensy_loader_cli": "apt install teensy-loader-cli  /  brew install teensy_loader_cli",
    "commander": "install Simplicity Commander from silabs.com and put 'commander' on PATH",
}
# what a dry run prints for the drive when none is mounted yet
DRIVE_PLACEHOLDER = {"uf2": "<UF2 bootloader drive>", "msd": "<debug probe drive>"}
ESPTOOL_BAUD = 460800
# where a whole-flash ESP image starts: after the ROM's reserved area on these chips, else at 0
ESP_IMAGE_OFFSET = {"esp32": "0x1000", "esp32s2": "0x1000", "esp32c5": "0x2000", "esp32p4": "0x2000"}
TOOL_TIMEOUT = 900  # seconds: the slowest tool (esptool on a 16 MB image at 115200 baud) takes minutes


class FlashError(RuntimeError):
    """Flashing cannot start or did not finish; the message says what to do."""


class DeviceMissing(FlashError):
    """The board (its bootloader drive or serial port) is not there; the arguments were fine."""


class Plan:
    """One flashing action: argv for a tool, or a copy onto a drive."""

    def __init__(self, method, argv=None, drive=None, note=None):
        self.method, self.argv, self.drive, self.note = method, argv, drive, note

    def describe(self, firmware_path):
        if self.argv:
            return shlex.join(self.argv)
        return f"copy {firmware_path} -> {self.drive or DRIVE_PLACEHOLDER[self.method]}/{os.path.basename(firmware_path)}"


def choose_method(board, kind, method=None):
    """The first of the board's methods that takes this kind of file (or the requested one)."""
    if method:
        if method not in board["flash"]:
            raise FlashError(f"--method {method}: {board['id']} is flashed with {', '.join(board['flash'])}")
        if kind not in ACCEPTS[method]:
            raise FlashError(f"--method {method} takes {'/'.join(sorted(ACCEPTS[method]))} files, got {kind}")
        return method
    for m in board["flash"]:
        if kind in ACCEPTS[m]:
            return m
    wanted = "; ".join(f"{m}: {'/'.join(sorted(ACCEPTS[m]))}" for m in board["flash"])
    raise FlashError(f"{board['id']} cannot take a {kind} file (it is flashed with {wanted})")


def _esptool_write_cmd():
    """esptool 5 renamed write_flash to write-flash; use the spelling of the installed one."""
    try:
        major = int(metadata.version("esptool").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        major = 5
    return "write-flash" if major >= 5 else "write_flash"


def _need_port(method, port):
    if not port:
        raise FlashError(f"{method} needs the board's serial port: pass --port (e.g. /dev/ttyACM0)")
    return port


def plan(board, path, kind, method, port=None, drive=None, roots=None, build_dir=None, dry_run=False):
    """The exact action for method; drives are looked up now, so a missing drive fails early.

    A dry run needs no hardware: with no drive mounted its plan copies to a
    placeholder and says in `note` how the drive will be found.
    """
    fw = os.path.abspath(path)
    if method == "esptool":
        argv = [sys.executable, "-m", "esptool", "--chip", board["chip"]]
        if port:
            argv += ["--port", port]
        offset = ESP_IMAGE_OFFSET.get(board["chip"], "0x0")
        argv += ["--baud", str(ESPTOOL_BAUD), _esptool_write_cmd(), offset, fw]
        return Plan(method, argv)
    if method == "nrfutil":
        return Plan(method, ["nrfutil", "dfu", "usb-serial", "-pkg", fw, "-p", _need_port(method, port)])
    if method == "adafruit-nrfutil":
        return Plan(method, ["adafruit-nrfutil", "--verbose", "dfu", "serial", "--package", fw,
                             "-p", _need_port(method, port), "-b", "115200", "--singlebank", "--touch", "1200"])
    if method == "west":
        build = build_dir or _zephyr_build_dir(fw)
        flag = "--hex-file" if kind == "ihex" else "--bin-file"
        return Plan(method, ["west", "flash", "--build-dir", build, flag, fw],
                    note=f"Zephyr board {board['zephyr_board']}")
    if method == "dfu-util":
        if kind == "dfuse":
            return Plan(method, ["dfu-util", "-a", "0", "-D", fw])
        # a raw image goes where the board's firmware starts (after its bootloader, if it keeps one)
        address = board.get("flash_address", "0x08000000")
        return Plan(method, ["dfu-util", "-a", "0", "-s", f"{address}:leave", "-D", fw])
    if method == "teensy":
        return Plan(method, ["teensy_loader_cli", f"--mcu={board['teensy_mcu']}", "-w", "-v", fw])
    if method == "commander":
        return Plan(method, ["commander", "flash", fw])
    if method in ("uf2", "msd"):
        if drive and not os.path.isdir(drive):
            raise FlashError(f"--drive {drive}: no such directory")
        try:
            return Plan(method, drive=drives.choose(method, board, drive, roots))
        except drives.NoDrive as e:
            if dry_run:
                return Plan(method, drive=drive, note=f"not mounted now: {e}")
            raise DeviceMissing(str(e)) from None
        except drives.DriveError as e:
            raise FlashError(str(e)) from None
    if method == "sdcard":
        raise FlashError(f"{board['id']} boots from an SD card: copy the firmware onto the card's FAT "
                         "boot partition with your file manager; there is no host flashing tool")
    raise FlashError(f"unknown flash method {method!r}")


def _zephyr_build_dir(fw):
    """build/zephyr/zephyr.hex -> build (west needs the build directory, not only the image)."""
    parent = os.path.dirname(fw)
    if os.path.basename(parent) == "zephyr" and os.path.isfile(os.path.join(os.path.dirname(parent), "CMakeCache.txt")):
        return os.path.dirname(parent)
    raise FlashError(f"west flash needs the Zephyr build directory: pass --build-dir (could not derive it from {fw})")


def missing_tool(p):
    """The install hint when the plan's tool is not on PATH, else None."""
    if not p.argv:
        return None
    if p.argv[0] == sys.executable:  # python -m TOOL: the module must be importable
        module = p.argv[2]
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install 'bleboard[tools]' (or pip install {module})"
        return None
    if shutil.which(p.argv[0]):
        return None
    return f"{p.argv[0]} is not installed: {INSTALL.get(p.argv[0], 'install it and put it on PATH')}"


def run(p, path, on_progress=drives.progress_bar):
    """Carry the plan out; raise FlashError with the tool's exit status on failure."""
    if p.drive:
        try:
            return drives.copy(path, p.drive, on_progress=on_progress, via_temp=(p.method == "uf2"))
        except drives.DriveError as e:
            raise FlashError(str(e)) from None
    hint = missing_tool(p)
    if hint:
        raise FlashError(hint)
    try:
        rc = subprocess.run(p.argv, timeout=TOOL_TIMEOUT).returncode
    except OSError as e:
        raise FlashError(f"could not start {p.argv[0]}: {e}") from None
    except subprocess.TimeoutExpired:
        raise FlashError(f"{p.argv[0]} did not finish within {TOOL_TIMEOUT} s and was stopped; "
                         "the board may be half-flashed: flash again") from None
    if rc:
        tool = p.argv[2] if p.argv[0] == sys.executable and p.argv[1:2] == ["-m"] else os.path.basename(p.argv[0])
        raise FlashError(f"{tool} failed with exit status {rc}: "
                         "see its output above (did the serial port go away?)")
    return None
