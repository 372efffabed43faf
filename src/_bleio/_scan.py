"""`ScanEntry`, `ScanResults` and the advertising-data prefix matching both use.

Advertising data is untrusted radio input: nothing here may raise on malformed data;
a structure that runs past the end simply ends the walk.
"""

from . import _wait
from ._address import Address

# adv_type values of MicroPython's _IRQ_SCAN_RESULT
_ADV_IND = 0
_ADV_DIRECT_IND = 1
_SCAN_RSP = 4


def check_prefixes(prefixes, name="prefixes"):
    """Validate a prefix list (length byte + bytes, repeated); returns it as bytes."""
    from ._attribute import check_buffer

    data = check_buffer(prefixes, name)
    i = 0
    while i < len(data):
        n = data[i]
        if n == 0 or i + 1 + n > len(data):
            raise ValueError("%s: malformed prefix at offset %d" % (name, i))
        i += 1 + n
    return data


def _structures(data):
    """The advertising structures of `data` (type byte + payload, without the length byte)."""
    out = []
    i = 0
    end = len(data)
    while i < end:
        n = data[i]
        if n == 0 or i + 1 + n > end:
            break
        out.append(data[i + 1 : i + 1 + n])
        i += 1 + n
    return out


def data_matches(data, prefixes, match_all):
    """True if `data` has a structure starting with one (match_all: each) of the `prefixes`."""
    if not prefixes:
        return True
    structures = _structures(data)
    if not structures:
        return False
    i = 0
    while i < len(prefixes):
        n = prefixes[i]
        prefix = prefixes[i + 1 : i + 1 + n]
        if len(prefix) != n or n == 0:
            break  # malformed tail: ignore it
        hit = False
        for s in structures:
            if s[:n] == prefix:
                hit = True
                break
        if hit and not match_all:
            return True
        if not hit and match_all:
            return False
        i += 1 + n
    return match_all


class ScanEntry:
    """One advertisement or scan response heard while scanning (made only by ScanResults)."""

    def __init__(self, address, data, rssi, connectable, scan_response):
        self._address = address
        self._data = data
        self._rssi = rssi
        self._connectable = connectable
        self._scan_response = scan_response

    @property
    def address(self):
        return self._address

    @property
    def advertisement_bytes(self):
        return self._data

    @property
    def rssi(self):
        return self._rssi

    @property
    def connectable(self):
        return self._connectable

    @property
    def scan_response(self):
        return self._scan_response

    def matches(self, prefixes, *, match_all=True):
        """True if the advertisement matches all (match_all) or any of `prefixes`."""
        data = check_prefixes(prefixes)
        return data_matches(self._data, data, bool(match_all))

    def __repr__(self):
        return "<ScanEntry %r rssi=%d%s>" % (self._address, self._rssi, " scan_response" if self._scan_response else "")


class ScanResults:
    """Blocking iterator over ScanEntry objects; ends when the scan times out or is stopped."""

    def __init__(self, prefixes, buffer_size, minimum_rssi, extended):
        self._prefixes = prefixes
        self._capacity = buffer_size
        self._minimum_rssi = minimum_rssi
        self._extended = extended
        self._entries = []
        self._used = 0
        self._done = False
        self._connectable = {}  # address bytes -> connectable, to label scan responses
        self.dropped = 0

    def __iter__(self):
        return self

    def __next__(self):
        _wait.until(self._ready, None)
        if self._entries:
            entry = self._entries.pop(0)
            self._used -= len(entry._data) + 8
            return entry
        raise StopIteration

    def _ready(self):
        return bool(self._entries) or self._done

    # ---- fed by the adapter's irq handler ------------------------------------

    def _add(self, addr_type, addr, adv_type, rssi, adv_data):
        """Filter and buffer one report; never raises on hostile data."""
        if self._done:
            return
        try:
            data = bytes(adv_data)
            key = bytes(addr)
            if adv_type != _SCAN_RSP:
                self._connectable[key] = adv_type in (_ADV_IND, _ADV_DIRECT_IND)
                if len(self._connectable) > 64:
                    self._connectable.clear()
            if rssi < self._minimum_rssi:
                return
            if len(data) > 31 and not self._extended:
                return
            if not data_matches(data, self._prefixes, False):
                return
            cost = len(data) + 8
            if self._used + cost > self._capacity:
                self.dropped += 1
                return
            if adv_type == _SCAN_RSP:
                connectable = self._connectable.get(key, False)
            else:
                connectable = adv_type in (_ADV_IND, _ADV_DIRECT_IND)
            entry = ScanEntry(Address._from_bluetooth(addr_type, key), data, rssi, connectable, adv_type == _SCAN_RSP)
        except Exception:  # radio input must never break the scan
            self.dropped += 1
            return
        self._entries.append(entry)
        self._used += cost

    def _finish(self):
        self._done = True
