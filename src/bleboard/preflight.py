"""Check a virtual board's radio settings before it starts.

A mistake in BLEBOARD_ADDRESS, --snoop or --hci would otherwise surface as a
traceback from deep inside the radio thread, after the program has started.
Checked here, it is one line naming the setting, a usage error (exit 2).
Nothing here imports Bumble, so `bleboard run` starts as fast as before.
"""

import errno
import os
import re

from bleboard.cli import UsageError

_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$")


def check_address(text, name="BLEBOARD_ADDRESS"):
    """A fixed board address must be six hex bytes, as BLE.new(address=...) takes it."""
    if text and not _ADDRESS.match(text.strip()):
        raise UsageError(f"{name}={text!r} is not a board address: give six hex bytes like 00:B0:0D:00:00:01")


def check_snoop(path, name="BLEBOARD_SNOOP"):
    """The capture file must be creatable now, not when the radio opens."""
    if not path:
        return
    if os.path.isdir(path):
        raise UsageError(f"{name} {path}: is a directory; give a file name for the btsnoop capture")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{name} {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{name} {path}: directory {folder} is not writable")


def check_hci(spec, name="BLEBOARD_HCI"):
    """A malformed transport spec is a usage error. Whether the controller is there is
    known only when the program opens the radio (a program may never do so)."""
    if not spec:
        return
    from bleboard.radio.errors import HCISpecError
    from bleboard.radio.transport import check_spec

    try:
        check_spec(spec)
    except HCISpecError as e:
        raise UsageError(f"{name}: {e}") from None


def is_radio_unavailable(exc):
    """True for the OSError `BLE.active(True)` raises when the controller cannot be opened."""
    return isinstance(exc, OSError) and exc.errno == errno.ENODEV and "cannot open the radio" in str(exc)


def check_environment(labels=None):
    """Check the settings a board reads from the environment; labels name where each came from."""
    labels = labels or {}
    env = os.environ
    for var, check in (("BLEBOARD_ADDRESS", check_address), ("BLEBOARD_SNOOP", check_snoop),
                       ("BLEBOARD_HCI", check_hci)):
        value = env.get(var)
        if value:
            check(value, labels.get(var, var))
