"""The JSON secrets store behind _IRQ_GET_SECRET / _IRQ_SET_SECRET (spec/bluetooth.md §4.5).

The handler is called exactly as the stack calls it; pairing itself is covered by
tests/multi/aioble_security.py.
"""

import json

import pytest

from aioble import security

GET, SET = 29, 30


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(security, "_secrets", [])
    monkeypatch.setattr(security, "_path", None)
    monkeypatch.setattr(security, "limit", 8)
    return tmp_path / "ble_secrets.json"


def test_set_get_enumerate_delete(store):
    security.load_secrets(str(store))
    assert not store.exists()  # nothing bonded yet
    assert security._irq(SET, (1, memoryview(b"\x00peer01"), memoryview(b"our-record"))) is True
    assert security._irq(SET, (2, b"\x00peer01", b"peer-record")) is True
    assert security._irq(GET, (1, 0, memoryview(b"\x00peer01"))) == b"our-record"
    assert security._irq(GET, (2, 0, b"\x00peer01")) == b"peer-record"
    assert security._irq(GET, (2, 0, b"\x00nobody")) is None
    assert security._irq(GET, (1, 0, None)) == b"our-record"  # enumeration by index
    assert security._irq(GET, (1, 1, None)) is None
    assert json.loads(store.read_text()) == [
        [1, b"\x00peer01".hex(), b"our-record".hex()],
        [2, b"\x00peer01".hex(), b"peer-record".hex()],
    ]
    assert security._irq(SET, (2, b"\x00peer01", None)) is True  # delete
    assert security._irq(SET, (2, b"\x00peer01", None)) is False  # was not there
    assert security._irq(GET, (2, 0, b"\x00peer01")) is None
    assert len(json.loads(store.read_text())) == 1


def test_survives_a_restart(store):
    security.load_secrets(str(store))
    security._irq(SET, (10, b"irk", b"\x11" * 16))
    security._irq(SET, (2, b"\x01peer02", b"v1"))
    security._irq(SET, (2, b"\x01peer02", b"v2"))  # replaced, not duplicated
    security._secrets.clear()  # as after a reset
    security.load_secrets(str(store))
    assert security._irq(GET, (10, 0, b"irk")) == b"\x11" * 16
    assert security._irq(GET, (2, 0, b"\x01peer02")) == b"v2"
    assert security._irq(GET, (2, 1, None)) is None


def test_limit_drops_the_oldest_bond(store):
    security.load_secrets(str(store))
    security.limit = 2
    for i in range(3):
        security._irq(SET, (2, b"peer%d" % i, b"v%d" % i))
    security._irq(SET, (10, b"irk", b"k"))  # other types do not count
    assert security._irq(GET, (2, 0, b"peer0")) is None
    assert [security._irq(GET, (2, i, None)) for i in range(3)] == [b"v1", b"v2", None]
    assert security._irq(GET, (10, 0, b"irk")) == b"k"


@pytest.mark.parametrize("content", ["{not json", '[[1, "zz", "00"]]', '[["x"]]'])
def test_corrupt_file_is_reported_and_kept(store, content):
    store.write_text(content)
    with pytest.raises(ValueError, match="corrupt secrets file"):
        security.load_secrets(str(store))
    security._irq(SET, (2, b"peer", b"v"))  # still works in memory ...
    assert security._irq(GET, (2, 0, b"peer")) == b"v"
    assert store.read_text() == content  # ... but the file is not overwritten


def test_without_a_file_secrets_stay_in_memory(store):
    assert security._irq(SET, (2, b"peer", b"v")) is True
    assert security._irq(GET, (2, 0, b"peer")) == b"v"
    assert not store.exists()
