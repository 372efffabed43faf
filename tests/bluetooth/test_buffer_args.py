"""Buffer arguments take exactly what MicroPython's mp_get_buffer_raise takes (extmod/
modbluetooth.c): any readable buffer, str included (its UTF-8 bytes), and a TypeError for
anything else; writable-only places (l2cap_recvinto) refuse str and bytes."""

import errno

import pytest

from bluetooth import UUID
from test_irq_delivery import connect, wait_until

IRQ_CENTRAL_CONNECT = 1
IRQ_GATTS_WRITE = 3
IRQ_GATTC_WRITE_DONE = 17
IRQ_GATTC_NOTIFY = 18
IRQ_GATTC_INDICATE = 19


def _collect(events):
    def irq(event, data):
        events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))

    return irq


def test_gatt_calls_take_str(boards):
    periph, central = boards(2)
    periph.active(True)
    central.active(True)
    ((h,),) = periph.gatts_register_services([(UUID(0xAC00), [(UUID(0xAC01), 0x3A)])])
    p_events, c_events = [], []
    periph.irq(_collect(p_events))
    central.irq(_collect(c_events))
    assert periph.gatts_write(h, "caf\u00e9") == 5  # MicroPython returns the byte count
    assert periph.gatts_read(h) == "caf\u00e9".encode()
    conn = connect(central, periph, c_events, p_events)
    p_conn = [d for e, d in p_events if e == IRQ_CENTRAL_CONNECT][0][0]
    central.gattc_write(conn, h, "from client", 1)
    wait_until(lambda: any(e == IRQ_GATTC_WRITE_DONE for e, _ in c_events))
    wait_until(lambda: any(e == IRQ_GATTS_WRITE for e, _ in p_events))
    assert periph.gatts_read(h) == b"from client"
    periph.gatts_notify(p_conn, h, "note")
    periph.gatts_indicate(p_conn, h, "ind")
    wait_until(lambda: any(e == IRQ_GATTC_INDICATE for e, _ in c_events))
    got = [(e, d[2]) for e, d in c_events if e in (IRQ_GATTC_NOTIFY, IRQ_GATTC_INDICATE)]
    assert got == [(IRQ_GATTC_NOTIFY, b"note"), (IRQ_GATTC_INDICATE, b"ind")]
    for bad in (12, 1.5, None, object()):
        with pytest.raises(TypeError):
            periph.gatts_write(h, bad)
        with pytest.raises(TypeError):
            central.gattc_write(conn, h, bad, 1)
    with pytest.raises(TypeError):
        periph.gatts_notify(p_conn, h, 12)


def test_str_holding_raw_bytes_gives_them_back(boards):
    # A str decoded from non-UTF-8 bytes with surrogateescape (what the board json dialect
    # makes of such bytes) is the buffer of those very bytes, as a MicroPython str would be.
    (ble,) = boards(1)
    ble.active(True)
    ((h,),) = ble.gatts_register_services([(UUID(0xAC10), [(UUID(0xAC11), 0x0A)])])
    raw = bytes(range(0x7E, 0x86))
    ble.gatts_write(h, raw.decode("utf-8", "surrogateescape"))
    assert ble.gatts_read(h) == raw


def test_gap_calls_take_str(boards):
    (ble,) = boards(1)
    ble.active(True)
    ble.config(gap_name="name")
    assert ble.config("gap_name") == b"name"
    ble.gap_advertise(100000, "\x02\x01\x06", resp_data="\x03\x09ab")
    ble.gap_advertise(None)
    ble.gap_connect(0, "abcdef")  # six bytes of str: a valid address to MicroPython
    ble.gap_connect(None)
    with pytest.raises(TypeError):
        ble.gap_connect(0, 123456)  # not a buffer: TypeError, not "invalid addr"
    with pytest.raises(ValueError, match="invalid addr"):
        ble.gap_connect(0, "abc")
    with pytest.raises(TypeError):
        ble.gap_advertise(100000, 6)


def test_l2cap_recvinto_needs_a_writable_buffer(boards):
    (ble,) = boards(1)
    if not hasattr(ble, "l2cap_recvinto"):
        pytest.skip("no L2CAP")
    ble.active(True)
    for bad in ("text", b"bytes", 5):
        with pytest.raises(TypeError):  # checked before the channel, as MicroPython does
            ble.l2cap_recvinto(0, 0x40, bad)
    with pytest.raises(OSError) as e:
        ble.l2cap_recvinto(0, 0x40, bytearray(4))  # a writable buffer passes: no such channel
    assert e.value.errno in (errno.EINVAL, errno.ENOTCONN)
