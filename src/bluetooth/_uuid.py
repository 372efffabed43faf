"""bluetooth.UUID: a size (2, 4 or 16 bytes) plus bytes stored little-endian (on-air order)."""


def _as_buffer(value):
    """bytes of any buffer-protocol object; MicroPython also treats str as a buffer."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, UUID):
        return value._le
    return bytes(memoryview(value))


def _parse_text(raw):
    digits = []
    for ch in raw:
        c = chr(ch)
        if c == "-":
            continue
        if c not in "0123456789abcdefABCDEF":
            raise ValueError("invalid char in UUID")
        if len(digits) == 32:
            raise ValueError("UUID too long")
        digits.append(c)
    if len(digits) < 32:
        raise ValueError("UUID too short")
    return bytes.fromhex("".join(digits))[::-1]


class UUID:
    """Bluetooth UUID, compared by size and bytes as MicroPython does."""

    __slots__ = ("_le",)

    def __init__(self, *args, **kw):
        if len(args) != 1 or kw:
            raise TypeError("UUID takes exactly one positional argument")
        value = args[0]
        if isinstance(value, int) and not isinstance(value, bool):
            if value > 0xFFFF:
                raise ValueError("invalid UUID")
            self._le = (value & 0xFFFF).to_bytes(2, "little")
            return
        try:
            raw = _as_buffer(value)
        except TypeError:
            raise TypeError("object with buffer protocol required") from None
        if isinstance(value, bool):
            raise TypeError("object with buffer protocol required")
        if len(raw) in (2, 4, 16):
            self._le = raw
        else:
            self._le = _parse_text(raw)

    # -- buffer-like access -------------------------------------------------
    def __bytes__(self):
        return self._le

    def __buffer__(self, flags):  # Python 3.12+: memoryview(uuid), bytearray(uuid)
        return memoryview(self._le)

    def __iter__(self):
        # bytearray(u) on 3.11 falls back to iteration; keep it byte-exact.
        return iter(self._le)

    # -- comparisons --------------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, UUID):
            return False
        return self._le == other._le

    def __ne__(self, other):
        return not self.__eq__(other)

    def _key(self, other):
        if not isinstance(other, UUID):
            raise TypeError("unsupported types for comparison: 'UUID' and %r" % type(other).__name__)
        return (len(self._le), self._le), (len(other._le), other._le)

    def __lt__(self, other):
        a, b = self._key(other)
        return a < b

    def __le__(self, other):
        a, b = self._key(other)
        return a <= b

    def __gt__(self, other):
        a, b = self._key(other)
        return a > b

    def __ge__(self, other):
        a, b = self._key(other)
        return a >= b

    def __hash__(self):
        h = 5381
        for byte in self._le:
            h = ((h * 33) ^ byte) & 0xFFFFFFFF
        h &= 0xFFFF
        return h or 1

    def __repr__(self):
        le = self._le
        if len(le) == 16:
            h = le[::-1].hex()
            return "UUID('%s-%s-%s-%s-%s')" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
        return "UUID(0x%s)" % le[::-1].hex()

    __str__ = __repr__
