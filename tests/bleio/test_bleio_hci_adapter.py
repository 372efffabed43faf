"""_bleio.Adapter(uart=, rts=, cts=): an HCI co-processor over H4 with hardware flow control.

Tested against virtual controllers served on pseudo-terminals (bleboard.tools.hci_pty), opened
through a real pyserial port exactly as an AirLift would be: two such adapters in this process
advertise, scan, connect and read a characteristic from each other.
"""

import pytest

import _bleio

serial = pytest.importorskip("serial")
hci_pty = pytest.importorskip("bleboard.tools.hci_pty")


@pytest.fixture
def radio():
    with hci_pty.PtyRadio() as r:
        yield r


@pytest.fixture
def restore_adapter():
    before = _bleio.adapter
    yield
    _bleio.set_adapter(before)


def _adapter(path):
    port = serial.Serial(path, 1000000, rtscts=True)
    return _bleio.Adapter(uart=port, rts="RTS", cts="CTS")


def test_two_hci_adapters_talk(radio, restore_adapter):
    periph = _adapter(radio.add())
    central = _adapter(radio.add())
    try:
        assert periph.address != central.address
        assert periph.name.startswith("CIRCUITPY") and len(periph.name) == 13
        _bleio.set_adapter(periph)
        assert _bleio.adapter is periph
        svc = _bleio.Service(_bleio.UUID(0xFC00))  # registers with the current adapter
        _bleio.Characteristic.add_to_service(
            svc, _bleio.UUID(0xFC01), properties=_bleio.Characteristic.READ, initial_value=b"over H4"
        )
        periph.start_advertising(b"\x02\x01\x06\x03\x09hc", interval=0.02)
        assert periph.advertising
        found = None
        for entry in central.start_scan(b"\x03\x09hc", timeout=10):
            if entry.address == periph.address:
                found = entry
                break
        central.stop_scan()
        assert found is not None and found.connectable
        conn = central.connect(found.address, timeout=10)
        assert conn.connected and central.connected
        (remote,) = conn.discover_remote_services([_bleio.UUID(0xFC00)])
        assert remote.characteristics[0].value == b"over H4"
        assert periph.connected and not periph.advertising
        conn.disconnect()
        assert not conn.connected
    finally:
        periph.enabled = False
        central.enabled = False


def test_set_adapter_none(restore_adapter):
    _bleio.set_adapter(None)
    assert _bleio.adapter is None
    with pytest.raises(_bleio.BluetoothError):
        _bleio.Service(_bleio.UUID(1))
