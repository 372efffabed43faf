# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's NimBLE
# binding also reports a channel as stalled (l2cap_send -> False) when its buffer pool is
# half used, but does not enforce that stall: the next send is accepted instead of raising
# EBUSY, and goes out. Against a receiver granting many credits this is the stall a sender
# meets first.
# multitest-skip: virtual@1, micropython-btstack -- records NimBLE-as-sender behaviour; instance1 must be the NimBLE firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_L2CAP_CONNECT = const(23)
_IRQ_L2CAP_DISCONNECT = const(24)
_IRQ_L2CAP_SEND_READY = const(26)

PSM = 22
MTU = 450
seen = []


def irq(event, data):
    seen.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for item in seen:
            if item[0] == event:
                seen.remove(item)
                return item[1]
        machine.idle()
    print("timeout waiting for", event)
    return None


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Sender (NimBLE), connecting.
def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    ble.l2cap_connect(conn, PSM, MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    while ble.l2cap_send(conn, cid, bytes(MTU)):
        pass
    try:
        ble.l2cap_send(conn, cid, b"x")
        print("send while stalled accepted")
    except OSError as e:
        print("send while stalled OSError", e.errno)
    wait_for(_IRQ_L2CAP_DISCONNECT, 10000)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    print("disconnected")


# Receiver, listening; counts what arrives.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.l2cap_listen(PSM, MTU)
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    buf = bytearray(MTU)
    got = 0
    quiet = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), quiet) < 1500:  # until 1.5 s without data
        n = ble.l2cap_recvinto(conn, cid, buf)
        if n:
            got += n
            quiet = time.ticks_ms()
        else:
            time.sleep_ms(10)
    print("received a partial SDU", got % MTU != 0)
    ble.l2cap_disconnect(conn, cid)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("disconnected")
