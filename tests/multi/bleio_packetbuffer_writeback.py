# _bleio PacketBuffer on a local characteristic answers the client that wrote to it, as
# CircuitPython does, even though that client never subscribed: the client here is a plain
# MicroPython `bluetooth` central, which accepts notifications for any handle.
from micropython import const
import time, machine, bluetooth

_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)


# Server: _bleio.
def instance0():
    import _bleio

    C = _bleio.Characteristic
    a = _bleio.adapter
    svc = _bleio.Service(_bleio.UUID(0xFB10))
    pkt = C.add_to_service(svc, _bleio.UUID(0xFB11), properties=C.NOTIFY | C.WRITE, max_length=20)
    buf = _bleio.PacketBuffer(pkt, buffer_size=4)
    a.start_advertising(b"\x02\x01\x06", interval=0.02)  # registers the database
    addr = a.address
    multitest.globals(
        PERIPH=bytes(reversed(addr.address_bytes)), PERIPH_TYPE=0 if addr.type == 0 else 1, HANDLE=pkt._handle
    )
    try:
        buf.write(b"too early")
    except _bleio.ConnectionError:  # MicroPython has no built-in ConnectionError
        print("nobody to write to yet")
    multitest.next()
    out = bytearray(20)
    n = 0
    t0 = time.time()
    while not n and time.time() - t0 < 5:
        n = buf.readinto(out)
        time.sleep(0.01)
    print("server got", bytes(out[:n]))
    print("wrote", buf.write(b"echo:" + out[:n]))
    print("wrote", buf.write("str too"))
    multitest.wait("client done")


# Client: MicroPython's bluetooth API, no subscription.
events = []


def irq(event, data):
    if event == _IRQ_GATTC_NOTIFY:
        events.append((event, bytes(data[2])))
    else:
        events.append((event, data[0]))


def wait_for(event, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(events):
            if item[0] == event:
                del events[i]
                return item[1]
        machine.idle()
    print("timeout waiting for", event)


def instance1():
    ble = bluetooth.BLE()
    ble.active(True)
    ble.irq(irq)
    multitest.next()
    ble.gap_connect(PERIPH_TYPE, PERIPH)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)
    ble.gattc_write(conn, HANDLE, b"hello", 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    print("notified", wait_for(_IRQ_GATTC_NOTIFY))
    print("notified", wait_for(_IRQ_GATTC_NOTIFY))
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    multitest.broadcast("client done")
    ble.active(False)
