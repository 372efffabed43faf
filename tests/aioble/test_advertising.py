"""Advertising payloads built by advertise() and parsed by ScanResult, without a radio.

The multitests check the same paths over the air; these pin the exact bytes and
the corner cases (splitting, malformed payloads) that are awkward to stage there.
"""

import pytest
from bluetooth import UUID

from aioble.central import ScanResult
from aioble.device import Device
from aioble.peripheral import _payloads

U16 = UUID(0x180F)
U32 = UUID(b"\x01\x02\x03\x04")
U128 = UUID("7b7e0001-5d6a-4c2e-9a0e-3f1d2c3b4a59")


def build(**kw):
    args = dict(adv_data=None, resp_data=None, limited_disc=False, br_edr=False, name=None, services=None,
                appearance=0, manufacturer=None)
    args.update(kw)
    return _payloads(**args)


def result(adv=None, resp=None, adv_type=0):
    r = ScanResult(Device(0, b"\x01\x02\x03\x04\x05\x06"))
    if adv is not None:
        r._update(adv_type, -50, adv)
    if resp is not None:
        r._update(4, -51, resp)
    return r


def test_flags_only():
    assert build() == (b"\x02\x01\x06", b"")
    assert build(limited_disc=True) == (b"\x02\x01\x05", b"")
    assert build(br_edr=True) == (b"\x02\x01\x02", b"")


def test_every_field_exact_bytes():
    adv, resp = build(name="ab", services=[U16], appearance=0x03C1, manufacturer=(0x0059, b"\x99"))
    assert adv == (
        b"\x02\x01\x06"  # flags
        + b"\x03\x09ab"  # complete local name
        + b"\x03\x03\x0f\x18"  # complete list of 16-bit UUIDs, little-endian
        + b"\x03\x19\xc1\x03"  # appearance
        + b"\x04\xff\x59\x00\x99"  # manufacturer: company id little-endian, then data
    )
    assert resp == b""


def test_services_grouped_by_size():
    adv, resp = build(services=[U16, U32, UUID(0x2A00)])
    assert adv == b"\x02\x01\x06" + b"\x05\x03\x0f\x18\x00\x2a" + b"\x05\x05\x01\x02\x03\x04"
    adv, resp = build(services=[U128])
    assert adv == b"\x02\x01\x06\x11\x07" + bytes(U128)


def test_overflow_goes_to_scan_response_field_by_field():
    adv, resp = build(name="n" * 20, services=[U128], appearance=1, manufacturer=(0xFFFF, b"x"))
    # flags 3 + name 22 = 25; the 18-byte UUID list does not fit, appearance (4) still does.
    assert adv == b"\x02\x01\x06" + b"\x15\x09" + b"n" * 20 + b"\x03\x19\x01\x00"
    assert resp == b"\x11\x07" + bytes(U128) + b"\x04\xff\xff\xffx"
    assert len(adv) <= 31 and len(resp) <= 31


def test_too_long_raises():
    with pytest.raises(ValueError, match="too long"):
        build(name="x" * 40)
    # A given scan response is the caller's: overflow may not go there.
    with pytest.raises(ValueError, match="too long"):
        build(name="n" * 20, services=[U128], resp_data=b"")


def test_raw_adv_data_is_kept_or_split():
    assert build(adv_data=b"\x02\x01\x06") == (b"\x02\x01\x06", b"")
    assert build(adv_data=b"\x02\x01\x06", resp_data=b"\x03\x09hi") == (b"\x02\x01\x06", b"\x03\x09hi")
    long = b"\x02\x01\x06" + b"\x15\x09" + b"n" * 20 + b"\x11\x07" + bytes(U128)
    assert build(adv_data=long) == (long[:25], long[25:])
    with pytest.raises(ValueError, match="adv_data"):
        build(adv_data=b"\x02\x01\x06" + b"\x30\x09" + b"x" * 30)  # length runs past the end


def test_bad_argument_types():
    with pytest.raises(TypeError, match="services"):
        build(services=[0x180F])
    with pytest.raises(TypeError, match="name"):
        build(name=b"bytes")


def test_scan_result_parses_what_we_build():
    adv, resp = build(name="n" * 20, services=[U16, U128], manufacturer=(0x0059, b"\x01\x02"))
    r = result(adv, resp)
    assert r.name() == "n" * 20
    assert list(r.services()) == [U16, U128]
    assert list(r.manufacturer()) == [(0x0059, b"\x01\x02")]
    assert list(r.manufacturer(0x0059)) == [(0x0059, b"\x01\x02")]
    assert list(r.manufacturer(0x0001)) == []


def test_scan_result_combines_adv_and_scan_response():
    r = result(b"\x02\x01\x06\x03\x03\x0f\x18")
    assert (r.adv_data, r.resp_data, r.rssi, r.connectable) == (b"\x02\x01\x06\x03\x03\x0f\x18", None, -50, True)
    assert r.name() is None
    assert r._update(4, -40, b"\x04\x09abc") is True  # new scan response
    assert (r.name(), list(r.services()), r.rssi) == ("abc", [U16], -40)
    assert r._update(0, -41, b"\x02\x01\x06\x03\x03\x0f\x18") is False  # same data again
    assert r._update(4, -41, b"\x04\x09abc") is False
    assert r._update(0, -41, b"\x02\x01\x06") is True  # changed advertising data
    assert r.resp_data == b"\x04\x09abc"  # the scan response is kept


def test_connectable_follows_adv_type():
    assert result(b"", adv_type=0).connectable is True  # ADV_IND
    assert result(b"", adv_type=1).connectable is True  # ADV_DIRECT_IND
    assert result(b"", adv_type=2).connectable is False  # ADV_SCAN_IND
    assert result(b"", adv_type=3).connectable is False  # ADV_NONCONN_IND
    r = result(b"", adv_type=0)
    r._update(4, -1, b"")  # a scan response does not change it
    assert r.connectable is True


def test_short_name_32bit_uuids_and_incomplete_lists():
    r = result(b"\x03\x08ab" + b"\x05\x04\x01\x02\x03\x04" + b"\x03\x02\x00\x2a")
    assert r.name() == "ab"
    assert list(r.services()) == [U32, UUID(0x2A00)]


def test_malformed_payloads_do_not_raise():
    assert result(b"\x09\x09ab").name() == "ab"  # length past the end: take what is there
    assert result(b"\x00\x09ab").name() is None  # zero length ends the payload
    assert result(b"\x02").name() is None
    assert result(b"\x03\x09\xff\xfe").name() is None  # not UTF-8
    assert list(result(b"\x04\x03\x0f\x18\x01").services()) == [U16]  # odd byte ignored
    assert list(result(b"\x02\xff\x59").manufacturer()) == []
