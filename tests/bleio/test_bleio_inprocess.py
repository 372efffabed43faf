"""Two _bleio adapters on one in-process virtual radio: GAP name, connect failures, enabled,
and the NotImplementedError a board without bleboard's port extensions gets."""

import pytest

import _bleio

bluetooth = pytest.importorskip("bluetooth")
local = pytest.importorskip("bleboard.radio.local")


@pytest.fixture
def pair():
    radio = local.LocalRadio(latency="fast")
    a = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
    b = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
    yield a, b
    a.enabled = False
    b.enabled = False
    radio.close()


def test_name_is_the_gap_device_name(pair):
    periph, central = pair
    addr = periph.address
    assert periph.name == "CIRCUITPY%02x%02x" % (addr.address_bytes[1], addr.address_bytes[0])
    periph.name = "renamed"
    assert periph.name == "renamed"
    with pytest.raises(TypeError):
        periph.name = b"bytes"
    _bleio._adapter.current[0] = periph
    try:
        svc = _bleio.Service(_bleio.UUID(0xFA00))
    finally:
        _bleio._adapter.current[0] = _bleio.adapter
    char = _bleio.Characteristic.add_to_service(svc, _bleio.UUID(0xFA01), properties=_bleio.Characteristic.READ)
    desc = _bleio.Descriptor.add_to_characteristic(char, _bleio.UUID(0xFA02), max_length=4, initial_value=b"ab")
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    conn = central.connect(addr, timeout=5)
    everything = conn.discover_remote_services()
    assert [s.uuid for s in everything] == [_bleio.UUID(0x1800), _bleio.UUID(0x1801), _bleio.UUID(0xFA00)]
    (rdesc,) = [d for d in everything[2].characteristics[0].descriptors if d.uuid == _bleio.UUID(0xFA02)]
    assert rdesc.value == b"ab"
    rdesc.value = b"wxyz"
    assert desc.value == b"wxyz" and rdesc.value == b"wxyz"
    with pytest.raises(_bleio.BluetoothError, match="0x0d"):
        rdesc.value = b"12345"  # longer than the descriptor's max_length: ATT error from the server
    (gap,) = conn.discover_remote_services([_bleio.UUID(0x1800)])
    names = [c for c in gap.characteristics if c.uuid == _bleio.UUID(0x2A00)]
    assert names[0].value == b"renamed"
    assert 7.5 <= conn.connection_interval <= 4000
    assert conn.max_packet_length > 20  # MTU exchanged after connecting
    assert periph.connections[0].connected
    conn.disconnect()
    assert central.connections == ()


def test_secondary_service(pair):
    periph, central = pair
    _bleio._adapter.current[0] = periph
    try:
        primary = _bleio.Service(_bleio.UUID(0xF900))
        secondary = _bleio.Service(_bleio.UUID(0xF901), secondary=True)
    finally:
        _bleio._adapter.current[0] = _bleio.adapter
    assert secondary.secondary and not primary.secondary
    _bleio.Characteristic.add_to_service(secondary, _bleio.UUID(0xF902), properties=_bleio.Characteristic.READ)
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    conn = central.connect(periph.address, timeout=5)
    # Primary service discovery does not report secondary services (they are reached by includes).
    uuids = [s.uuid for s in conn.discover_remote_services()]
    assert _bleio.UUID(0xF900) in uuids and _bleio.UUID(0xF901) not in uuids
    assert secondary._characteristics[0]._handle is not None  # registered on the server


def test_connect_to_nobody_times_out(pair):
    _, central = pair
    with pytest.raises(_bleio.BluetoothError, match="Failed to connect"):
        central.connect(_bleio.Address(b"\x01\x02\x03\x04\x05\xc6", _bleio.Address.RANDOM_STATIC), timeout=0.5)
    assert not central.connected


def test_disable_ends_connections(pair):
    periph, central = pair
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    conn = central.connect(periph.address, timeout=5)
    central.enabled = False
    assert not central.enabled and not conn.connected and central.connections == ()
    with pytest.raises(_bleio.BluetoothError, match="not enabled"):
        central.start_scan()
    central.enabled = True
    assert central.address is not None


@pytest.mark.parametrize(
    "kw,feature",
    [
        (dict(data=bytes(40)), "longer than 31"),
        (dict(anonymous=True), "anonymous"),
        (dict(timeout=5), "timeout"),
        (dict(tx_power=4), "tx_power"),
        (dict(directed_to=_bleio.Address(bytes(6), 0)), "directed"),
    ],
)
def test_board_without_extensions_says_what_is_missing(pair, kw, feature):
    periph, _ = pair
    periph._start()
    periph._ext = False  # as on a MicroPython board: plain gap_advertise only
    kw.setdefault("data", b"\x02\x01\x06")
    with pytest.raises(NotImplementedError, match=feature) as info:
        periph.start_advertising(**kw)
    assert "extension" in str(info.value)
    assert not periph.advertising


def test_packetbuffer_indications_in_order(pair):
    periph, central = pair
    C = _bleio.Characteristic
    _bleio._adapter.current[0] = periph
    try:
        svc = _bleio.Service(_bleio.UUID(0xF800))
    finally:
        _bleio._adapter.current[0] = _bleio.adapter
    char = C.add_to_service(svc, _bleio.UUID(0xF801), properties=C.INDICATE, max_length=20)
    server = _bleio.PacketBuffer(char, buffer_size=2)
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    conn = central.connect(periph.address, timeout=5)
    (rsvc,) = conn.discover_remote_services([_bleio.UUID(0xF800)])
    client = _bleio.PacketBuffer(rsvc.characteristics[0], buffer_size=10)
    rsvc.characteristics[0].set_cccd(indicate=True)
    for i in range(6):
        server.write(b"ind%d" % i)  # each waits for the previous confirmation
    got = []
    buf = bytearray(20)
    assert _bleio._wait.until(lambda: len(client._packets) == 6, 10)
    while True:
        n = client.readinto(buf)
        if not n:
            break
        got.append(bytes(buf[:n]))
    assert got == [b"ind%d" % i for i in range(6)]


_THREAD_SCRIPT = r"""
import _bleio, bluetooth
from bleboard.radio.local import LocalRadio
from bleboard.runtime import scheduler
radio = LocalRadio(latency="fast")
periph = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
central = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
_bleio._adapter.current[0] = periph
svc = _bleio.Service(_bleio.UUID(0xF700))
C = _bleio.Characteristic
char = C.add_to_service(svc, _bleio.UUID(0xF701), properties=C.READ | C.NOTIFY, initial_value=b"v")
periph.start_advertising(b"\x02\x01\x06", interval=0.02)
conn = central.connect(periph.address, timeout=5)
(rsvc,) = conn.discover_remote_services([_bleio.UUID(0xF700)])
remote = rsvc.characteristics[0]
stream = _bleio.CharacteristicBuffer(remote, timeout=5, buffer_size=100)
remote.set_cccd(notify=True)
for i in range(10):
    char.value = b"%d," % i
print(scheduler.default().mode, bytes(remote.value), stream.read(20))
conn.disconnect()
"""


def test_irq_on_a_dispatcher_thread():
    # Programs where the main thread cannot take irqs get them on a dispatcher thread: waits still end.
    import os
    import subprocess
    import sys

    env = dict(os.environ, BLEBOARD_IRQ="thread")
    out = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["thread", "b'9,'", "b'0,1,2,3,4,5,6,7,8,9,'"], out.stdout + out.stderr
