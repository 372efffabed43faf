"""Argument checks and plain objects of aioble that need no radio."""

import pytest
from bluetooth import UUID

import aioble
from aioble.central import scan


def test_device_addresses():
    d = aioble.Device(aioble.ADDR_RANDOM, "C0:01:02:03:04:ff")
    assert d.addr == b"\xc0\x01\x02\x03\x04\xff"
    assert d.addr_hex() == "c0:01:02:03:04:ff"
    assert repr(d) == "Device(ADDR_RANDOM, c0:01:02:03:04:ff)"
    assert d == aioble.Device(1, bytearray(b"\xc0\x01\x02\x03\x04\xff"))
    assert d != aioble.Device(0, b"\xc0\x01\x02\x03\x04\xff")
    assert len({d, aioble.Device(1, d.addr)}) == 1
    assert repr(aioble.Device(aioble.ADDR_PUBLIC, memoryview(b"123456"))).startswith("Device(ADDR_PUBLIC, 31:32")


@pytest.mark.parametrize(
    "addr_type, addr, error, match",
    [
        (2, b"123456", ValueError, "addr_type"),
        (0, b"12345", ValueError, "6 bytes"),
        (0, "00:11:22:33:44", ValueError, "invalid addr"),
        (0, "00:11:22:33:44:zz", ValueError, "invalid addr"),
        (0, "00-11-22-33-44-55", ValueError, "invalid addr"),
        (0, 6, TypeError, "addr"),
        (0, None, TypeError, "addr"),
    ],
)
def test_device_bad_arguments(addr_type, addr, error, match):
    with pytest.raises(error, match=match):
        aioble.Device(addr_type, addr)


def test_errors_carry_status():
    e = aioble.GattError(0x102)
    assert e._status == 0x102
    assert "258" in str(e) and "0x102" in str(e)
    e = aioble.L2CAPConnectionError(5)
    assert e.args[0] == 5 and "5" in str(e)


@pytest.mark.parametrize("duration", [-1, 1.5, None, "10"])
def test_scan_duration_checked(duration):
    with pytest.raises(ValueError, match="duration_ms"):
        scan(duration)


def test_service_definition_and_flags():
    svc = aioble.Service(UUID(0x180F))
    a = aioble.Characteristic(svc, UUID(0x2A19), read=True, notify=True)
    b = aioble.BufferedCharacteristic(svc, UUID(0x2A1A), max_len=100, append=True, write_no_response=True)
    d = aioble.Descriptor(a, UUID(0x2901), read=True, initial=b"x")
    c = aioble.Characteristic(svc, UUID(0x2A1B))
    assert svc.characteristics == [a, b, c] and a.descriptors == [d]
    assert (a.flags, b.flags, c.flags, d.flags) == (0x12, 0x04, 0, 0x02)
    assert b._buffer == (100, True)
    assert svc._definition() == (
        UUID(0x180F),
        ((UUID(0x2A19), 0x12, ((UUID(0x2901), 0x02),)), (UUID(0x2A1A), 0x04, ()), (UUID(0x2A1B), 0, ())),
    )
    a.write(b"before registration")  # becomes the initial value
    assert a._initial == b"before registration"
    with pytest.raises(ValueError, match="not registered"):
        a.read()
    with pytest.raises(ValueError, match="max_len"):
        aioble.BufferedCharacteristic(svc, UUID(0x2A1C), max_len=0)
