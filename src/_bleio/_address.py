"""`Address`: a device address with CircuitPython's four address types."""

_HEX = "0123456789abcdef"


class Address:
    """Encapsulates the address of a BLE device (bytes little-endian, like CircuitPython)."""

    PUBLIC = 0
    RANDOM_STATIC = 1
    RANDOM_PRIVATE_RESOLVABLE = 2
    RANDOM_PRIVATE_NON_RESOLVABLE = 3

    def __init__(self, address, address_type):
        try:
            # A str is a buffer in CircuitPython too: its UTF-8 bytes.
            data = address.encode() if isinstance(address, str) else bytes(memoryview(address))
        except TypeError:
            raise TypeError("address must be a buffer of 6 bytes")
        if len(data) != 6:
            raise ValueError("Address must be 6 bytes long")
        if isinstance(address_type, bool) or not isinstance(address_type, int):
            raise TypeError("address_type must be an int")
        if not 0 <= address_type <= 3:
            raise ValueError("Address type out of range")
        self._bytes = data
        self._type = address_type

    @property
    def address_bytes(self):
        """The six address bytes, least significant first."""
        return self._bytes

    @property
    def type(self):
        """PUBLIC, RANDOM_STATIC, RANDOM_PRIVATE_RESOLVABLE or RANDOM_PRIVATE_NON_RESOLVABLE."""
        return self._type

    def __eq__(self, other):
        return isinstance(other, Address) and self._bytes == other._bytes and self._type == other._type

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._bytes) ^ self._type

    def __repr__(self):
        return "<Address %s>" % ":".join(_HEX[b >> 4] + _HEX[b & 15] for b in reversed(self._bytes))

    # ---- conversions to and from MicroPython's (addr_type, display-order addr) ----

    def _to_bluetooth(self):
        return (0 if self._type == Address.PUBLIC else 1, bytes(reversed(self._bytes)))

    @staticmethod
    def _from_bluetooth(addr_type, addr):
        """MicroPython reports only public (0) / random (1); the top two bits tell which random kind."""
        display = bytes(addr)
        if addr_type == 0:
            kind = Address.PUBLIC
        else:
            top = display[0] >> 6
            if top == 3:
                kind = Address.RANDOM_STATIC
            elif top == 1:
                kind = Address.RANDOM_PRIVATE_RESOLVABLE
            else:
                kind = Address.RANDOM_PRIVATE_NON_RESOLVABLE
        return Address(bytes(reversed(display)), kind)
