"""Argument checking as CircuitPython's bindings do it; none of these touch the radio."""

import pytest

import _bleio
from _bleio import Attribute, Characteristic, Descriptor, Service, UUID

A = _bleio.adapter


@pytest.fixture
def service():
    return Service(UUID(0xFFF0))


def test_constants():
    assert (Attribute.NO_ACCESS, Attribute.OPEN, Attribute.ENCRYPT_NO_MITM, Attribute.ENCRYPT_WITH_MITM) == (0, 0x11, 0x21, 0x31)
    assert (Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_NO_MITM, Attribute.SIGNED_WITH_MITM) == (0x41, 0x12, 0x22)
    C = Characteristic
    assert (C.BROADCAST, C.INDICATE, C.NOTIFY, C.READ, C.WRITE, C.WRITE_NO_RESPONSE) == (1, 2, 4, 8, 0x10, 0x20)
    assert issubclass(_bleio.RoleError, _bleio.BluetoothError)
    assert issubclass(_bleio.SecurityError, _bleio.BluetoothError)
    assert _bleio.ConnectionError is ConnectionError


def test_no_public_constructors():
    for cls in (Attribute, Characteristic, Descriptor):
        with pytest.raises(TypeError):
            cls()
    with pytest.raises(NotImplementedError):
        _bleio.Adapter()


def test_service_args():
    with pytest.raises(TypeError, match="uuid"):
        Service(0x180D)
    s = Service(UUID(0x180F))
    assert s.uuid == UUID(0x180F) and not s.remote and not s.secondary and s.characteristics == ()


def test_characteristic_defaults(service):
    c = Characteristic.add_to_service(service, UUID(0xFFF1), properties=Characteristic.READ)
    assert c.max_length == 20 and c.value == bytearray() and c.service is service
    f = Characteristic.add_to_service(service, UUID(0xFFF2), max_length=4, fixed_length=True)
    assert f.value == bytearray(4)
    assert service.characteristics == (c, f)


@pytest.mark.parametrize(
    "kw,err,text",
    [
        (dict(properties=0x40), ValueError, "properties"),
        (dict(properties="r"), TypeError, "properties"),
        (dict(read_perm=0x13), ValueError, "read_perm"),
        (dict(write_perm=0x99), ValueError, "write_perm"),
        (dict(write_perm=None), TypeError, "write_perm"),
        (dict(max_length=513), ValueError, "max_length"),
        (dict(max_length=-1), ValueError, "max_length"),
        (dict(max_length=4, initial_value=b"12345"), ValueError, "initial_value"),
        (dict(max_length=4, fixed_length=True, initial_value=b"123"), ValueError, "initial_value"),
        (dict(initial_value=5), TypeError, "initial_value"),
        (dict(user_description=b"x"), TypeError, "user_description"),
    ],
)
def test_characteristic_bad_args(service, kw, err, text):
    with pytest.raises(err, match=text):
        Characteristic.add_to_service(service, UUID(0xFFF3), **kw)


def test_characteristic_bad_service_and_uuid(service):
    with pytest.raises(TypeError, match="service"):
        Characteristic.add_to_service(object(), UUID(1))
    with pytest.raises(TypeError, match="uuid"):
        Characteristic.add_to_service(service, 0x2A00)


def test_local_value_rules(service):
    c = Characteristic.add_to_service(service, UUID(0xFFF4), max_length=4, initial_value=b"ab")
    with pytest.raises(ValueError, match="max_length"):
        c.value = b"12345"
    assert c.value == b"ab"  # old value kept
    c.value = "xy"  # str is a buffer in CircuitPython
    assert c.value == b"xy"
    f = Characteristic.add_to_service(service, UUID(0xFFF5), max_length=2, fixed_length=True)
    with pytest.raises(ValueError, match="fixed"):
        f.value = b"1"
    with pytest.raises(_bleio.RoleError):
        c.set_cccd(notify=True)


def test_descriptor_args(service):
    c = Characteristic.add_to_service(service, UUID(0xFFF6))
    d = Descriptor.add_to_characteristic(c, UUID(0x2904), initial_value=b"\x01", max_length=7)
    assert d.characteristic is c and d.uuid == UUID(0x2904) and d.value == b"\x01" and c.descriptors == (d,)
    with pytest.raises(ValueError, match="max_length"):
        d.value = b"12345678"
    with pytest.raises(TypeError, match="characteristic"):
        Descriptor.add_to_characteristic(service, UUID(1))
    with pytest.raises(ValueError, match="max_length"):
        Descriptor.add_to_characteristic(c, UUID(1), max_length=600)
    with pytest.raises(ValueError, match="read_perm"):
        Descriptor.add_to_characteristic(c, UUID(1), read_perm=7)


def test_user_description_becomes_descriptor(service):
    c = Characteristic.add_to_service(service, UUID(0xFFF7), user_description="Temp")
    (d,) = c.descriptors
    assert d.uuid == UUID(0x2901) and d.value == b"Temp"


def test_buffers_args(service):
    c = Characteristic.add_to_service(service, UUID(0xFFF8), properties=Characteristic.WRITE)
    with pytest.raises(TypeError, match="characteristic"):
        _bleio.CharacteristicBuffer(b"x")
    with pytest.raises(ValueError, match="buffer_size"):
        _bleio.CharacteristicBuffer(c, buffer_size=0)
    with pytest.raises(ValueError, match="timeout"):
        _bleio.CharacteristicBuffer(c, timeout=-1)
    with pytest.raises(ValueError, match="buffer_size"):
        _bleio.PacketBuffer(c, buffer_size=0)
    with pytest.raises(ValueError, match="max_packet_size"):
        _bleio.PacketBuffer(c, buffer_size=1, max_packet_size=0)
    p = _bleio.PacketBuffer(c, buffer_size=2)
    with pytest.raises(_bleio.BluetoothError, match="No connection"):
        p.incoming_packet_length
    with pytest.raises(_bleio.BluetoothError, match="Writes not supported"):
        p.write(b"x")  # a local WRITE-only characteristic has nothing to send with (CircuitPython)
    p.deinit()
    with pytest.raises(ValueError, match="deinit"):
        p.readinto(bytearray(4))
    b = _bleio.CharacteristicBuffer(c, timeout=0)
    assert b.in_waiting == 0 and b.read(3) is None and b.readinto(bytearray(2)) is None
    b.deinit()


@pytest.mark.parametrize(
    "kw,err,text",
    [
        (dict(interval=0.019), ValueError, "interval"),
        (dict(interval=10.25), ValueError, "interval"),
        (dict(interval="1"), TypeError, "interval"),
        (dict(timeout=-1), ValueError, "timeout"),
        (dict(tx_power=1.5), TypeError, "tx_power"),
        (dict(directed_to=b"\x00" * 6), TypeError, "directed_to"),
        (dict(scan_response=5), TypeError, "scan_response"),
    ],
)
def test_advertising_args(kw, err, text):
    with pytest.raises(err, match=text):
        A.start_advertising(b"\x02\x01\x06", **kw)


def test_advertising_data_too_long():
    with pytest.raises(ValueError, match="too large"):
        A.start_advertising(bytes(252))
    with pytest.raises(TypeError, match="data"):
        A.start_advertising(None)


@pytest.mark.parametrize(
    "kw,err,text",
    [
        (dict(interval=0.002), ValueError, "interval"),
        (dict(interval=41.0), ValueError, "interval"),
        (dict(window=0.2, interval=0.1), ValueError, "window"),
        (dict(window=0.001), ValueError, "window"),
        (dict(buffer_size=0), ValueError, "buffer_size"),
        (dict(timeout=-1), ValueError, "timeout"),
        (dict(minimum_rssi="x"), TypeError, "minimum_rssi"),
        (dict(prefixes=b"\x05\x09"), ValueError, "prefixes"),
    ],
)
def test_scan_args(kw, err, text):
    with pytest.raises(err, match=text):
        A.start_scan(**kw)


def test_connect_args():
    with pytest.raises(TypeError, match="address"):
        A.connect(b"\x00" * 6, timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        A.connect(_bleio.Address(bytes(6), 0), timeout=0)
    with pytest.raises(TypeError):
        A.connect(_bleio.Address(bytes(6), 0))  # timeout is required


def test_set_adapter_type():
    with pytest.raises(TypeError):
        _bleio.set_adapter(object())


def test_hci_adapter_spec():
    from _bleio._adapter import _hci_spec

    import serial

    port = serial.Serial()  # a real, unopened pyserial port
    port.port = "/dev/ttyS9"
    port.baudrate = 1000000
    assert _hci_spec(port, True, True) == "serial:/dev/ttyS9,1000000,rtscts"
    assert _hci_spec("tcp-client:127.0.0.1:1234", None, None) == "tcp-client:127.0.0.1:1234"
    with pytest.raises(ValueError, match="rts and cts"):
        _hci_spec(port, None, None)
    with pytest.raises(TypeError, match="uart"):
        _hci_spec(object(), 1, 1)
