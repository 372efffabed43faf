"""`UUID`: CircuitPython's 16-bit / 128-bit UUID value, convertible to `bluetooth.UUID`.

Unlike `bluetooth.UUID`, a 128-bit UUID here also has a `uuid16` (bytes 12-13, the part
that varies within a vendor base) and 32-bit UUIDs do not exist.
"""

_HEX = "0123456789abcdef"


def _hex(data):
    return "".join(_HEX[b >> 4] + _HEX[b & 15] for b in data)


def _parse_128(text):
    """'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' -> 16 bytes little-endian, or None if malformed."""
    if len(text) != 36:
        return None
    groups = text.split("-")
    if [len(g) for g in groups] != [8, 4, 4, 4, 12]:
        return None
    digits = "".join(groups).lower()
    for ch in digits:
        if ch not in _HEX:
            return None
    big = bytes(int(digits[i : i + 2], 16) for i in range(0, 32, 2))
    return bytes(reversed(big))


class UUID:
    """A 16-bit (Bluetooth SIG) or 128-bit (vendor) UUID."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self._bytes = value._bytes
            return
        if isinstance(value, bool):
            raise TypeError("UUID value is not str, int or byte buffer")
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("UUID integer value must be 0-0xffff")
            self._bytes = bytes((value & 0xFF, value >> 8))
            return
        if isinstance(value, str):
            data = _parse_128(value)
            if data is None:
                raise ValueError("UUID string not 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'")
            self._bytes = data
            return
        try:
            data = bytes(memoryview(value))
        except TypeError:
            raise TypeError("UUID value is not str, int or byte buffer")
        if len(data) != 16:
            raise ValueError("Byte buffer must be 16 bytes.")
        self._bytes = data

    @property
    def uuid16(self):
        """The 16-bit part of the UUID (for a 128-bit UUID: its bytes 12 and 13)."""
        b = self._bytes
        if len(b) == 2:
            return b[0] | (b[1] << 8)
        return b[12] | (b[13] << 8)

    @property
    def uuid128(self):
        """The 16 bytes (little-endian) of a 128-bit UUID; AttributeError for a 16-bit one."""
        if len(self._bytes) != 16:
            raise AttributeError("not a 128-bit UUID")
        return self._bytes

    @property
    def size(self):
        """128 for a vendor UUID, 16 for a Bluetooth SIG UUID."""
        return 16 if len(self._bytes) == 2 else 128

    def pack_into(self, buffer, offset=0):
        """Write the UUID's little-endian bytes into `buffer` at `offset`."""
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError("offset must be an int")
        try:
            view = memoryview(buffer)
        except TypeError:
            raise TypeError("buffer must be a writable buffer")
        if getattr(view, "readonly", False):
            raise TypeError("buffer must be a writable buffer")
        n = len(self._bytes)
        if offset < 0 or offset + n > len(view):
            raise ValueError("Buffer + offset too small %d %d %d" % (len(view), offset, n))
        view[offset : offset + n] = self._bytes

    def __eq__(self, other):
        return isinstance(other, UUID) and self._bytes == other._bytes

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._bytes)

    def __bytes__(self):
        return self._bytes

    def __repr__(self):
        b = self._bytes
        if len(b) == 2:
            return "UUID(0x%04x)" % self.uuid16
        h = _hex(reversed(b))
        return "UUID('%s-%s-%s-%s-%s')" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])

    # ---- used inside _bleio -------------------------------------------------

    def _to_bluetooth(self):
        import bluetooth

        return bluetooth.UUID(self._bytes)

    @staticmethod
    def _from_bluetooth(bt_uuid):
        """Our UUID for a `bluetooth.UUID` from an irq (None for 32-bit UUIDs, which CircuitPython lacks)."""
        data = bytes(bt_uuid)
        if len(data) == 2:
            return UUID(data[0] | (data[1] << 8))
        if len(data) == 16:
            return UUID(data)
        return None
