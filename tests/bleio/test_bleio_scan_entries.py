"""ScanEntry.matches, prefix filtering of scan results and hostile advertising data."""

import random

import pytest

from _bleio import ScanEntry, ScanResults, Address
from _bleio._scan import check_prefixes, data_matches

FLAGS = b"\x02\x01\x06"
NAME = b"\x05\x09abcd"
MANUF = b"\x04\xff\x22\x08\x01"
DATA = FLAGS + NAME + MANUF
ADDR = b"\xc1\x02\x03\x04\x05\x06"


def entry(data):
    return ScanEntry(Address(bytes(6), 0), data, -40, True, False)


def test_matches_all_and_any():
    e = entry(DATA)
    assert e.matches(b"")
    assert e.matches(b"\x01\x09")  # a name structure
    assert e.matches(b"\x03\x09ab")  # prefix of the name
    assert e.matches(b"\x05\x09abcd")
    assert not e.matches(b"\x06\x09abcde")  # longer than the structure
    assert e.matches(b"\x01\x09\x03\xff\x22\x08")  # both present
    assert not e.matches(b"\x01\x09\x01\x16")  # second one missing
    assert e.matches(b"\x01\x09\x01\x16", match_all=False)
    assert not e.matches(b"\x01\x16\x01\x07", match_all=False)


def test_matches_empty_data():
    assert not entry(b"").matches(b"\x01\x09")
    assert entry(b"").matches(b"")


@pytest.mark.parametrize("bad", [b"\x02\x09", b"\x00", b"\x01\x09\x05ab"])
def test_malformed_prefixes(bad):
    with pytest.raises(ValueError, match="prefixes"):
        check_prefixes(bad)
    with pytest.raises(ValueError):
        entry(DATA).matches(bad)


def test_prefixes_must_be_buffer():
    with pytest.raises(TypeError):
        entry(DATA).matches(5)


def test_truncated_structures_end_the_walk():
    # The name structure claims 9 bytes but only 4 follow: it is not a structure.
    data = FLAGS + b"\x09\x09abc"
    assert not data_matches(data, b"\x01\x09", True)
    assert data_matches(data, b"\x01\x01", True)


def results(**kw):
    args = dict(prefixes=b"", buffer_size=512, minimum_rssi=-80, extended=False)
    args.update(kw)
    return ScanResults(**args)


def test_scan_results_filtering_and_order():
    r = results(prefixes=b"\x01\x09")
    r._add(1, ADDR, 0, -50, DATA)
    r._add(1, ADDR, 0, -90, DATA)  # below minimum_rssi
    r._add(1, ADDR, 0, -50, FLAGS + MANUF)  # no name structure
    r._add(1, ADDR, 4, -50, b"\x03\x09xy")  # scan response with a name
    r._add(1, ADDR, 0, -50, FLAGS + b"\x20\x09" + bytes(31))  # extended-length data, not asked for
    r._finish()
    got = list(r)
    assert [(e.advertisement_bytes, e.scan_response, e.connectable) for e in got] == [
        (DATA, False, True),
        (b"\x03\x09xy", True, True),  # connectable: learnt from the advertisement
    ]
    assert got[0].address == Address(bytes(reversed(ADDR)), Address.RANDOM_STATIC)
    assert got[0].rssi == -50


def test_scan_results_buffer_size_drops_excess():
    r = results(buffer_size=2 * (len(DATA) + 8))  # each entry costs its data + 8 bytes
    for _ in range(5):
        r._add(0, ADDR, 3, -10, DATA)
    r._finish()
    assert len(list(r)) == 2 and r.dropped == 3


def test_scan_results_end_when_done_and_keep_buffered():
    r = results()
    r._add(0, ADDR, 2, -10, DATA)
    r._finish()
    r._add(0, ADDR, 2, -10, DATA)  # after the end: ignored
    assert next(r).connectable is False
    with pytest.raises(StopIteration):
        next(r)


def test_hostile_advertising_data_never_raises():
    rng = random.Random(1234)
    r = results(prefixes=b"\x01\x09\x02\xff\x22", buffer_size=10**6, minimum_rssi=-128, extended=True)
    for _ in range(3000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 300)))
        addr = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 5, 6, 6, 6, 7))))
        r._add(rng.randrange(0, 2), addr, rng.randrange(-1, 6), rng.randrange(-128, 20), data)
        r._add(0, ADDR, 0, -10, memoryview(data))
    r._finish()
    for e in r:
        assert e.matches(b"\x01\x09\x02\xff\x22", match_all=False)
        e.matches(b"\x01\x09\x02\xff\x22")
