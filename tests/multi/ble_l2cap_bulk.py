# L2CAP bulk transfer with flow control: 40 KB to a receiver that drains slowly from its
# main loop, so the sender stalls (l2cap_send -> False, then _IRQ_L2CAP_SEND_READY), and a
# send while stalled is EBUSY. Data arrives whole and in order (checksum); then the
# receiver sends the same amount back, drained from inside its irq handler.
# multitest-skip: micropython -- NimBLE v1.28 does not enforce its memory stall: a send while stalled is accepted, not EBUSY (docs/firmware.md; shown by tests/firmware/multi/nimble_l2cap_mem_stall.py)
from micropython import const
import time, machine, bluetooth

if not hasattr(bluetooth.BLE, "l2cap_connect"):
    print("SKIP")
    raise SystemExit

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_L2CAP_ACCEPT = const(22)
_IRQ_L2CAP_CONNECT = const(23)
_IRQ_L2CAP_DISCONNECT = const(24)
_IRQ_L2CAP_RECV = const(25)
_IRQ_L2CAP_SEND_READY = const(26)

_PSM = const(22)
_MTU = const(450)
_TOTAL = const(40000)

queue = []
counts = {_IRQ_L2CAP_RECV: 0, _IRQ_L2CAP_SEND_READY: 0}
drain_in_irq = False
rx = bytearray()
scratch = bytearray(128)


def irq(event, data):
    if event == _IRQ_L2CAP_ACCEPT:
        print("ACCEPT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_CONNECT:
        print("CONNECT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_DISCONNECT:
        print("DISCONNECT", data[2], data[3])
    if event in counts:
        counts[event] += 1
        if event == _IRQ_L2CAP_RECV and drain_in_irq:
            drain(data[0], data[1])
        if event == _IRQ_L2CAP_RECV:
            return
    queue.append((event, tuple(data)))


def drain(conn, cid):
    while True:
        n = ble.l2cap_recvinto(conn, cid, scratch)
        if not n:
            return
        rx.extend(scratch[:n])


def wait_for(event, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] == event:
                del queue[i]
                return item[1]
        machine.idle()
    print("timeout waiting for", event)
    return (None, None, None, None, None)


def stream(total):
    # A deterministic byte stream, sent in MTU-sized chunks.
    buf = bytearray(total)
    x = 12345
    for i in range(total):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        buf[i] = x >> 16 & 0xFF
    return buf


def checksum(buf):
    a, b = 1, 0
    for byte in buf:
        a = (a + byte) % 65521
        b = (b + a) % 65521
    return b << 16 | a


def send_all(conn, cid, data):
    stalls = 0
    busy = 0
    for i in range(0, len(data), _MTU):
        if not ble.l2cap_send(conn, cid, data[i : i + _MTU]):
            stalls += 1
            if stalls == 1:
                try:
                    ble.l2cap_send(conn, cid, b"x")
                except OSError as e:
                    busy = e.errno
            wait_for(_IRQ_L2CAP_SEND_READY)
    return stalls, busy


def receive_slowly(conn, cid, total, timeout_ms=20000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    most = 0
    while len(rx) < total and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        most = max(most, ble.l2cap_recvinto(conn, cid, None))
        n = ble.l2cap_recvinto(conn, cid, scratch)
        rx.extend(scratch[:n])
        time.sleep_ms(1)
    return most


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)
data = stream(_TOTAL)


# Receiver first (peripheral, listener).
def instance0():
    global drain_in_irq
    ble.l2cap_listen(_PSM, _MTU)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    most = receive_slowly(conn, cid, _TOTAL)
    print("received", len(rx), checksum(rx) == checksum(data))
    # Credits come back only once drained: the sender waits instead of flooding us (after
    # one SDU on NimBLE; after a window of up to 64 SDUs, 28800 bytes here, on bleboard).
    print("pending held back", 0 < most <= 3 * _TOTAL // 4)
    print("one RECV per SDU", counts[_IRQ_L2CAP_RECV] == (_TOTAL + _MTU - 1) // _MTU)
    rx[:] = b""
    multitest.broadcast("your turn")
    stalls, busy = send_all(conn, cid, data)
    print("stalled", stalls > 0, "EBUSY while stalled", busy == 16)
    print("SEND_READY per stall", counts[_IRQ_L2CAP_SEND_READY] == stalls)
    wait_for(_IRQ_L2CAP_DISCONNECT, 20000)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("disconnected")


# Sender first (central).
def instance1():
    global drain_in_irq
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    ble.l2cap_connect(conn, _PSM, _MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    drain_in_irq = True
    stalls, busy = send_all(conn, cid, data)
    print("stalled", stalls > 0, "EBUSY while stalled", busy == 16)
    print("SEND_READY per stall", counts[_IRQ_L2CAP_SEND_READY] == stalls)
    multitest.wait("your turn")
    deadline = time.ticks_add(time.ticks_ms(), 20000)
    while len(rx) < _TOTAL and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()
    print("received", len(rx), checksum(rx) == checksum(data))
    ble.l2cap_disconnect(conn, cid)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    print("disconnected")
