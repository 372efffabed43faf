"""`Attribute` security modes and their translation to MicroPython's permission flags."""


class Attribute:
    """Security modes for characteristics and descriptors (constants only; not instantiable)."""

    NO_ACCESS = 0x00
    OPEN = 0x11
    ENCRYPT_NO_MITM = 0x21
    ENCRYPT_WITH_MITM = 0x31
    LESC_ENCRYPT_WITH_MITM = 0x41
    SIGNED_NO_MITM = 0x12
    SIGNED_WITH_MITM = 0x22

    def __init__(self):
        raise TypeError("cannot create 'Attribute' instances")


_MODES = (0x00, 0x11, 0x21, 0x31, 0x41, 0x12, 0x22)

# MicroPython flags (spec/bluetooth.md 1.4)
FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
FLAG_READ_ENCRYPTED = 0x0200
FLAG_READ_AUTHENTICATED = 0x0400
FLAG_WRITE_ENCRYPTED = 0x1000
FLAG_WRITE_AUTHENTICATED = 0x2000


def check_mode(value, name):
    """Validate a security mode argument the way CircuitPython does."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int" % name)
    if value not in _MODES:
        raise ValueError("Invalid security_mode for %s: 0x%02x" % (name, value))
    return value


def read_flags(mode):
    """MicroPython flags that require `mode` for reads (0 if it adds nothing)."""
    if mode in (Attribute.ENCRYPT_NO_MITM, Attribute.SIGNED_NO_MITM):
        return FLAG_READ_ENCRYPTED
    if mode in (Attribute.ENCRYPT_WITH_MITM, Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_WITH_MITM):
        return FLAG_READ_AUTHENTICATED
    return 0


def write_flags(mode):
    """MicroPython flags that require `mode` for writes (signed modes need encryption here)."""
    if mode in (Attribute.ENCRYPT_NO_MITM, Attribute.SIGNED_NO_MITM):
        return FLAG_WRITE_ENCRYPTED
    if mode in (Attribute.ENCRYPT_WITH_MITM, Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_WITH_MITM):
        return FLAG_WRITE_AUTHENTICATED
    return 0


def check_buffer(value, name):
    """bytes of a readable buffer argument (a str gives its UTF-8, as in CircuitPython), TypeError otherwise."""
    if isinstance(value, str):
        return value.encode()
    try:
        return bytes(memoryview(value))
    except TypeError:
        raise TypeError("%s must be a bytes-like object" % name)


def check_int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int" % name)
    if not low <= value <= high:
        raise ValueError("%s must be %d-%d" % (name, low, high))
    return value


def check_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number" % name)
    return float(value)
