"""The adapter's bonding keys, kept across restarts as CircuitPython keeps them in flash.

Records are the port's secrets (spec/bluetooth.md 4.5): (type, key) -> value. On a
MicroPython board they live in /_bleio_bonds.json on its filesystem. On CPython a process
is not a board with its own flash, so they are kept in memory unless BLEBOARD_BLEIO_BONDS
names a file. The file is replaced whole (written aside, then renamed), never half-written.
"""

import json
import os
import sys
from binascii import hexlify, unhexlify

BOARD_PATH = "/_bleio_bonds.json"


def default_path():
    if sys.implementation.name == "micropython":
        return BOARD_PATH
    return os.environ.get("BLEBOARD_BLEIO_BONDS") or None


class BondStore:
    def __init__(self, path=None):
        self._path = path
        self._records = {}
        if path is not None:
            self._load()

    def _load(self):
        try:
            with open(self._path) as f:
                rows = json.load(f)
            for sec_type, key, value in rows:
                self._records[(int(sec_type), unhexlify(key))] = unhexlify(value)
        except (OSError, ValueError, TypeError):
            self._records = {}  # no store yet, or unreadable: start without bonds

    def _save(self):
        if self._path is None:
            return
        rows = [[t, hexlify(k).decode(), hexlify(v).decode()] for (t, k), v in self._records.items()]
        aside = self._path + ".new"
        try:
            with open(aside, "w") as f:
                json.dump(rows, f)
            os.rename(aside, self._path)
        except OSError:
            pass  # a read-only filesystem: the bonds last until the next reset

    def get(self, sec_type, index, key):
        if key is None:
            found = [v for (t, _k), v in self._records.items() if t == sec_type]
            return found[index] if index < len(found) else None
        return self._records.get((sec_type, bytes(key)))

    def set(self, sec_type, key, value):
        k = (sec_type, bytes(key))
        if value is None:
            if self._records.pop(k, None) is None:
                return False
        else:
            self._records[k] = bytes(value)
        self._save()
        return True

    def clear(self):
        self._records = {}
        self._save()
