"""Make `import _bleio` load bleboard's `_bleio`, even when another `_bleio` is installed.

`adafruit-circuitpython-ble` pulls in adafruit-blinka-bleio, whose (central-only) `_bleio`
package sits in site-packages ahead of ours. `bleboard-bleio.pth` (installed with bleboard)
imports this module at interpreter start-up; it puts a finder first on `sys.meta_path`
that answers for `_bleio` with our package. Opt out with BLEBOARD_NO_BLEIO_HOOK=1.
Kept tiny and free of other imports: it runs in every Python process.
"""

import os
import sys

OPT_OUT = "BLEBOARD_NO_BLEIO_HOOK"


def _our_package():
    """Directory of bleboard's _bleio (the one whose __init__ says `__bleboard__ = True`), or None."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    init = os.path.join(here, "_bleio", "__init__.py")
    try:
        with open(init, encoding="utf-8") as f:
            if "__bleboard__ = True" in f.read():
                return os.path.dirname(init)
    except OSError:
        pass
    return None


class BleioFinder:
    """Meta path finder for the top-level name `_bleio` only (submodules follow its __path__)."""

    path = None

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != "_bleio" or cls.path is None:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(
            "_bleio", os.path.join(cls.path, "__init__.py"), submodule_search_locations=[cls.path]
        )


def install():
    """Put the finder first unless opted out; returns True if it is active."""
    if os.environ.get(OPT_OUT, "") not in ("", "0"):
        return False
    BleioFinder.path = _our_package()
    if BleioFinder.path is None:
        return False
    if BleioFinder not in sys.meta_path:
        sys.meta_path.insert(0, BleioFinder)
    return True


install()
