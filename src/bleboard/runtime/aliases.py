"""The `u`-prefixed module names older MicroPython programs import (`ustruct`, `ujson` ...).

MicroPython still accepts `import ustruct` for its built-in modules; a board
program run by `bleboard run` gets the standard module under that name (the
same module object).  The finder goes last on sys.meta_path, so a real module
of that name on sys.path (e.g. from micropython-lib) still wins.
"""

import importlib.abc
import importlib.util
import sys

# u-name -> the module it stands for
ALIASES = {
    "uarray": "array",
    "uasyncio": "asyncio",
    "ubinascii": "binascii",
    "ubluetooth": "bluetooth",
    "ucollections": "collections",
    "uerrno": "errno",
    "uhashlib": "hashlib",
    "uheapq": "heapq",
    "uio": "io",
    "ujson": "json",
    "umachine": "machine",
    "uos": "os",
    "urandom": "random",
    "ure": "re",
    "uselect": "select",
    "usocket": "socket",
    "ustruct": "struct",
    "usys": "sys",
    "utime": "time",
    "uzlib": "zlib",
}


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if path is None and fullname in ALIASES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        # The standard module itself, so `ustruct is struct`.
        return importlib.import_module(ALIASES[spec.name])

    def exec_module(self, module):
        pass


def install():
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())
