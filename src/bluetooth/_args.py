"""Argument conversion shared by every BLE method (MicroPython's rules, spec §2.1)."""

from ._uuid import UUID


def to_int(value, name="argument"):
    if isinstance(value, int):  # bool is an int, as in MicroPython
        return int(value)
    raise TypeError("can't convert %s to int (%s)" % (type(value).__name__, name))


def u16(value, name="handle"):
    return to_int(value, name) & 0xFFFF


def u8(value, name="argument"):
    return to_int(value, name) & 0xFF


def to_bytes(value, name="data"):
    """Any buffer, as mp_get_buffer_raise takes it: MicroPython's str is a buffer of its
    UTF-8 bytes.  Lone surrogates stand for raw bytes (a str made from bytes that are not
    UTF-8, e.g. by the board json dialect), so they give those bytes back."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, UUID):
        return bytes(value)
    try:
        return bytes(memoryview(value))
    except TypeError:
        raise TypeError("object with buffer protocol required (%s)" % name) from None


def opt_uuid(value):
    """An optional UUID filter, as the port takes UUIDs: their little-endian bytes."""
    if value is None:
        return None
    if not isinstance(value, UUID):
        raise TypeError("UUID")
    return bytes(value)


def addr6(value):
    raw = to_bytes(value, "addr")  # not a buffer: TypeError, as mp_get_buffer_raise
    if len(raw) != 6:
        raise ValueError("invalid addr")
    return raw
