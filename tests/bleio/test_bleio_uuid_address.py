"""UUID and Address: every constructor form, properties, equality, hashing, bad input."""

import pytest

from _bleio import Address, UUID

BASE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"


def test_uuid16_from_int():
    u = UUID(0x180D)
    assert u.uuid16 == 0x180D and u.size == 16
    assert repr(u) == "UUID(0x180d)"
    assert bytes(u) == b"\x0d\x18"
    with pytest.raises(AttributeError):
        u.uuid128


def test_uuid128_from_str_and_buffer():
    u = UUID(BASE)
    assert u.size == 128
    assert repr(u) == "UUID('%s')" % BASE
    assert u.uuid128 == bytes(reversed(bytes.fromhex(BASE.replace("-", ""))))
    assert u.uuid16 == 0x0001  # bytes 12-13 of the little-endian value
    assert UUID(u.uuid128) == u
    assert UUID(bytearray(u.uuid128)) == u
    assert UUID(memoryview(u.uuid128)) == u
    assert UUID(BASE.upper()) == u
    assert UUID(u) == u


@pytest.mark.parametrize("bad", [0x10000, -1])
def test_uuid_int_range(bad):
    with pytest.raises(ValueError, match="0-0xffff"):
        UUID(bad)


@pytest.mark.parametrize("bad", ["6e400001b5a3f393e0a9e50e24dcca9e", BASE[:-1], BASE + "0", BASE.replace("6", "g"), "", "1234"])
def test_uuid_bad_strings(bad):
    with pytest.raises(ValueError, match="UUID string"):
        UUID(bad)


@pytest.mark.parametrize("bad", [b"\x01\x02", bytes(15), bytes(17)])
def test_uuid_bad_buffer_length(bad):
    with pytest.raises(ValueError, match="16 bytes"):
        UUID(bad)


@pytest.mark.parametrize("bad", [1.5, None, True, [1, 2]])
def test_uuid_bad_types(bad):
    with pytest.raises(TypeError):
        UUID(bad)


def test_uuid_equality_and_hash():
    assert UUID(0x2902) == UUID(0x2902)
    assert UUID(0x2902) != UUID(0x2903)
    sig = UUID("00002902-0000-1000-8000-00805f9b34fb")
    assert UUID(0x2902) != sig  # 16-bit and 128-bit are never equal
    assert UUID(0x2902) != 0x2902
    assert len({UUID(0x2902), UUID(0x2902), sig, UUID(sig.uuid128)}) == 2


def test_uuid_pack_into():
    buf = bytearray(20)
    UUID(0x180D).pack_into(buf, 3)
    assert buf[3:5] == b"\x0d\x18"
    u = UUID(BASE)
    u.pack_into(buf)
    assert bytes(buf[:16]) == u.uuid128
    with pytest.raises(ValueError, match="too small"):
        u.pack_into(bytearray(16), 1)
    with pytest.raises(ValueError, match="too small"):
        UUID(1).pack_into(bytearray(1))
    with pytest.raises(TypeError):
        u.pack_into(b"read-only buffer of bytes")


def test_uuid_to_and_from_bluetooth():
    bluetooth = pytest.importorskip("bluetooth")
    if not hasattr(bluetooth, "UUID"):
        pytest.skip("bluetooth port not available")
    for u in (UUID(0x180D), UUID(BASE)):
        bt = u._to_bluetooth()
        assert UUID._from_bluetooth(bt) == u
    assert UUID._from_bluetooth(bluetooth.UUID(b"\x01\x02\x03\x04")) is None  # 32-bit: not in CircuitPython


def test_address():
    raw = bytes((0x35, 0xA8, 0xED, 0xF5, 0x1D, 0xC8))
    a = Address(raw, Address.RANDOM_STATIC)
    assert a.address_bytes == raw and a.type == 1
    assert repr(a) == "<Address c8:1d:f5:ed:a8:35>"
    assert a == Address(bytearray(raw), 1)
    assert a != Address(raw, Address.PUBLIC)
    assert a != raw
    assert len({a, Address(raw, 1), Address(raw, 0)}) == 2
    kinds = (Address.PUBLIC, Address.RANDOM_STATIC, Address.RANDOM_PRIVATE_RESOLVABLE, Address.RANDOM_PRIVATE_NON_RESOLVABLE)
    assert kinds == (0, 1, 2, 3)


@pytest.mark.parametrize("raw,kind,err", [(bytes(5), 0, ValueError), (bytes(7), 0, ValueError), (bytes(6), 4, ValueError),
                                         (bytes(6), -1, ValueError), (123456, 0, TypeError), (bytes(6), 1.0, TypeError)])
def test_address_bad(raw, kind, err):
    with pytest.raises(err):
        Address(raw, kind)


def test_address_kinds_from_bluetooth():
    # MicroPython says only public/random; the top bits of a random address tell which kind.
    assert Address._from_bluetooth(0, b"\x01\x02\x03\x04\x05\x06").type == Address.PUBLIC
    assert Address._from_bluetooth(1, b"\xc1\x02\x03\x04\x05\x06").type == Address.RANDOM_STATIC
    assert Address._from_bluetooth(1, b"\x41\x02\x03\x04\x05\x06").type == Address.RANDOM_PRIVATE_RESOLVABLE
    assert Address._from_bluetooth(1, b"\x01\x02\x03\x04\x05\x06").type == Address.RANDOM_PRIVATE_NON_RESOLVABLE
    a = Address._from_bluetooth(1, b"\xc1\x02\x03\x04\x05\x06")
    assert a.address_bytes == b"\x06\x05\x04\x03\x02\xc1"
    assert a._to_bluetooth() == (1, b"\xc1\x02\x03\x04\x05\x06")
