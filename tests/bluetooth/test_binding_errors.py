"""Bad input gets MicroPython's exception (spec §2), before and after active(True)."""

import errno

import pytest

import bluetooth
from bluetooth import UUID

IRQ_PERIPHERAL_DISCONNECT = 8


def oserr(excinfo, num):
    assert excinfo.value.errno == num, excinfo.value


def test_singleton_and_repr():
    assert bluetooth.BLE() is bluetooth.BLE()
    assert bluetooth.BLE("ignored", x=1) is bluetooth.BLE()
    assert repr(bluetooth.BLE()) == "<BLE>"
    assert bluetooth.BLE.new() is not bluetooth.BLE()


def test_inactive_radio_is_enodev():
    ble = bluetooth.BLE.new()
    assert ble.active() is False
    for call in (
        lambda: ble.gap_advertise(100000),
        lambda: ble.gap_scan(100),
        lambda: ble.gap_connect(0, bytes(6)),
        lambda: ble.gatts_register_services([]),
        lambda: ble.config("mac"),
        lambda: ble.config("mtu"),
        lambda: ble.gatts_write(1, b"x"),
        lambda: ble.gattc_read(0, 1),
    ):
        with pytest.raises(OSError) as e:
            call()
        oserr(e, errno.ENODEV)
        assert "ENODEV" in str(e.value)
    assert ble.gatts_read(1) == b""
    assert ble.gap_advertise(None) is None
    assert ble.gap_scan(None) is None
    assert ble.config("gap_name") == b"MPY NIMBLE"


def test_config_errors():
    ble = bluetooth.BLE.new()
    with pytest.raises(TypeError, match="must query one param"):
        ble.config()
    with pytest.raises(TypeError, match="must query one param"):
        ble.config("mac", "mtu")
    with pytest.raises(TypeError, match="can't specify pos and kw args"):
        ble.config("mac", gap_name="x")
    for key in ("nope", "rxbuf", "bond", "io"):
        with pytest.raises(ValueError, match="unknown config param"):
            ble.config(key)
    with pytest.raises(ValueError, match="unknown config param"):
        ble.config(nope=1)
    with pytest.raises(OSError) as e:
        ble.config(gap_name="x" * 32)
    oserr(e, errno.EINVAL)
    ble.config(gap_name="abc\0def", bond=True, io=4)
    assert ble.config("gap_name") == b"abc"


def test_irq_handler_must_be_callable():
    ble = bluetooth.BLE.new()
    with pytest.raises(ValueError, match="invalid handler"):
        ble.irq(5)
    ble.irq(None)
    with pytest.raises(TypeError):
        ble.irq(handler=None)


def test_register_services_shapes(boards):
    (ble,) = boards(1)
    ble.active(True)
    with pytest.raises(ValueError, match="invalid service UUID"):
        ble.gatts_register_services([(0x1800, [])])
    with pytest.raises(TypeError):
        ble.gatts_register_services([UUID(1)])
    with pytest.raises(ValueError, match="invalid characteristic tuple"):
        ble.gatts_register_services([(UUID(1), [(UUID(2),)])])
    with pytest.raises(ValueError, match="invalid characteristic UUID"):
        ble.gatts_register_services([(UUID(1), [("x", 2)])])
    with pytest.raises(ValueError, match="invalid descriptor UUID"):
        ble.gatts_register_services([(UUID(1), [(UUID(2), 2, [(5, 2)])])])
    with pytest.raises(OSError) as e:
        ble.gatts_register_services([(UUID(i), []) for i in range(9)])
    oserr(e, errno.E2BIG)
    assert ble.gatts_register_services([]) == ()
    handles = ble.gatts_register_services(
        [(UUID(0x1234), [(UUID(0x1235), 0x12, [(UUID(0x2901), 0x02)]), (UUID(0x1236), 0x02)])]
    )
    ((value, desc, other),) = handles
    assert isinstance(handles, tuple) and isinstance(handles[0], tuple)
    assert desc == value + 2  # the CCCD sits between the value and the user descriptor
    assert other == desc + 2


def test_value_store(boards):
    (ble,) = boards(1)
    ble.active(True)
    ((h,),) = ble.gatts_register_services([(UUID(0x1234), [(UUID(0x1235), 0x0A)])])
    assert ble.gatts_read(h) == b""
    assert ble.gatts_write(h, "text") == 4
    assert ble.gatts_read(h) == b"text"
    assert ble.gatts_write(h, bytes(100)) == 100
    ble.gatts_set_buffer(h, 10, True)
    assert ble.gatts_read(h) == b""
    with pytest.raises(OSError) as e:
        ble.gatts_write(h + 50, b"x")
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        ble.gatts_set_buffer(h + 50, 4)
    oserr(e, errno.EINVAL)
    with pytest.raises(TypeError):
        ble.gatts_write(h, 1234)
    with pytest.raises(TypeError):
        ble.gatts_write(value_handle=h, data=b"")
    assert ble.gatts_read(h + 50) == b""


def test_gap_argument_errors(boards):
    (ble,) = boards(1)
    ble.active(True)
    with pytest.raises(OSError) as e:
        ble.gap_connect(None)
    oserr(e, errno.EALREADY)
    with pytest.raises(TypeError, match="invalid addr"):
        ble.gap_connect(0)
    with pytest.raises(ValueError, match="invalid addr"):
        ble.gap_connect(0, b"12345")
    with pytest.raises(OSError) as e:
        ble.gap_scan(0, 10000, 20000)
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        ble.gap_advertise(100000, bytes(32))
    oserr(e, errno.EINVAL)
    with pytest.raises(OSError) as e:
        ble.gap_advertise(10000)
    oserr(e, errno.EINVAL)
    assert ble.gap_disconnect(77) is False
    with pytest.raises(OSError) as e:
        ble.gattc_read(77, 3)
    oserr(e, errno.ENOTCONN)
    with pytest.raises(OSError) as e:
        ble.gattc_write(77, 3, b"x", 2)
    oserr(e, errno.EINVAL)
    with pytest.raises(TypeError, match="UUID"):
        ble.gattc_discover_services(0, 0x1800)
    ble.gap_scan(0)
    with pytest.raises(OSError) as e:
        ble.gap_scan(0)
    oserr(e, errno.EALREADY)
    ble.gap_scan(None)
    with pytest.raises(OSError) as e:
        ble.config(mtu=22)
    oserr(e, errno.EINVAL)
    ble.config(mtu=300)
    assert ble.config("mtu") == 300
    addr_type, addr = ble.config("mac")
    assert addr_type in (0, 1) and isinstance(addr, bytes) and len(addr) == 6


def test_addr_modes(boards):
    (ble,) = boards(1)
    ble.active(True)
    public = ble.config("mac")
    assert public[0] == 0
    ble.config(addr_mode=1)
    t, addr = ble.config("mac")
    assert t == 1 and addr[0] & 0xC0 == 0xC0  # static random
    ble.config(addr_mode=3)
    t, addr = ble.config("mac")
    assert t == 1 and addr[0] & 0xC0 == 0x00  # non-resolvable private
    ble.config(addr_mode=2)
    with pytest.raises(OSError) as e:
        ble.config("mac")
    oserr(e, errno.EINVAL)
    ble.config(addr_mode=0)
    assert ble.config("mac") == public
    ble.config(addr_mode=7)  # NimBLE ignores other values
    assert ble.config("mac") == public


def test_connect_timeout_and_cancel_end_the_attempt(boards):
    import time

    (ble,) = boards(1)
    ble.active(True)
    events = []
    ble.irq(lambda e, d: events.append((e, tuple(bytes(x) if isinstance(x, memoryview) else x for x in d))))
    nobody = (0, b"\x00\x11\x22\x33\x44\x55")
    ble.gap_connect(*nobody, 200)
    with pytest.raises(OSError) as e:
        ble.gap_connect(*nobody)
    oserr(e, errno.EALREADY)
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert events == [(IRQ_PERIPHERAL_DISCONNECT, (0xFFFF, 0xFF, bytes(6)))]
    events.clear()
    ble.gap_connect(*nobody, 5000)
    ble.gap_connect(None)
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert events == [(IRQ_PERIPHERAL_DISCONNECT, (0xFFFF, 0xFF, bytes(6)))]
    time.sleep(0.3)
    assert len(events) == 1  # exactly one end per attempt
