"""bluetooth.UUID behaves as MicroPython's (spec §1.3)."""

import pytest

from bluetooth import UUID


def test_int_forms():
    assert repr(UUID(0x2A00)) == "UUID(0x2a00)"
    assert UUID(-1) == UUID(0xFFFF)  # low 16 bits, as MicroPython
    with pytest.raises(ValueError, match="invalid UUID"):
        UUID(0x10000)


def test_buffer_forms_are_little_endian_storage():
    assert UUID(b"\x08\x29") == UUID(0x2908)
    assert bytes(UUID(0x180D)) == b"\x0d\x18"
    assert bytearray(UUID(0x180D)) == bytearray(b"\x0d\x18")
    assert repr(UUID(b"\x78\x56\x34\x12")) == "UUID(0x12345678)"
    # MicroPython quirk: a str of length 2, 4 or 16 is taken as raw bytes, not parsed.
    assert UUID("1234") == UUID(b"1234")
    assert UUID(UUID(0x1234)) == UUID(0x1234)


def test_text_form():
    u = UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
    assert repr(u) == "UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')"
    assert str(u) == repr(u)
    assert bytes(u)[0] == 0x9E and bytes(u)[-1] == 0x6E
    assert UUID("6e400001b5a3f393e0a9e50e24dcca9e") == u
    with pytest.raises(ValueError, match="invalid char"):
        UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9x")
    with pytest.raises(ValueError, match="too long"):
        UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e0")
    with pytest.raises(ValueError, match="too short"):
        UUID("6e400001-b5a3")


@pytest.mark.parametrize("bad", [1.5, None, [1, 2], True])
def test_bad_types(bad):
    with pytest.raises(TypeError):
        UUID(bad)


def test_arity():
    with pytest.raises(TypeError):
        UUID(1, 2)
    with pytest.raises(TypeError):
        UUID(value=1)


def test_equality_is_size_and_bytes():
    assert UUID(0x2902) != UUID("00002902-0000-1000-8000-00805f9b34fb")
    assert (UUID(1) == 1) is False
    assert (UUID(1) != 1) is True
    assert hash(UUID(0x2A00)) == hash(UUID(b"\x00\x2a"))


def test_ordering():
    assert UUID(0x0100) < UUID(0x0001)  # storage bytes compared little-endian first
    assert UUID(0xFFFF) < UUID(b"\x00\x00\x00\x00") < UUID(bytes(16))
    with pytest.raises(TypeError):
        UUID(1) < 1
