# L2CAP channel basics: listen/accept/connect, data both ways with MTU limits, disconnect
# from each side, the listener accepting again, and the argument errors on a live channel.
# multitest-skip: micropython@1 -- NimBLE v1.28 as connector sometimes crashes (SIGSEGV) opening a second channel on one link (docs/firmware.md)
# multitest-skip: micropython@0 -- NimBLE v1.28 as listener: l2cap_disconnect on its closed channel succeeds (docs/firmware.md; shown by tests/firmware/multi/nimble_l2cap_listener_disconnect.py)
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
SIZES = (1, 100, 450, 17, 300)

queue = []
rx = bytearray()
scratch = bytearray(64)


def irq(event, data):
    if event == _IRQ_L2CAP_ACCEPT:
        print("ACCEPT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_CONNECT:
        print("CONNECT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_DISCONNECT:
        print("DISCONNECT", data[2], data[3])
    elif event == _IRQ_L2CAP_RECV:
        # Drain everything now: the peer gets credits back only once nothing is pending.
        while True:
            n = ble.l2cap_recvinto(data[0], data[1], scratch)
            if not n:
                break
            rx.extend(scratch[:n])
        return
    queue.append((event, tuple(data)))


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


def wait_rx(count, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while len(rx) < count and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()


def checksum(buf):
    total = 0
    for i, b in enumerate(buf):
        total = (total * 31 + b + i) & 0xFFFFFF
    return total


def payload(size, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(size))


def send(conn, cid, buf):
    if not ble.l2cap_send(conn, cid, buf):
        wait_for(_IRQ_L2CAP_SEND_READY)


def error(what, fn, *args):
    try:
        fn(*args)
        print(what, "no error")
    except OSError as e:
        print(what, "OSError", e.errno)


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Listener (peripheral).
def instance0():
    ble.l2cap_listen(_PSM, _MTU)
    error("listen again", ble.l2cap_listen, _PSM, _MTU)
    error("connect while listening", ble.l2cap_connect, 0, _PSM, _MTU)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    # First channel: the central sends, we check and answer, the central closes.
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    expected = b"".join(payload(n, n) for n in SIZES)
    wait_rx(len(expected))
    print("received", len(rx), rx == expected)
    rx[:] = b""
    send(conn, cid, b"ack %d" % len(expected))
    wait_for(_IRQ_L2CAP_DISCONNECT)
    # Second channel (the central asked for MTU 10, clamped to 32): we send and close it.
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    error("send 33", ble.l2cap_send, conn, cid, bytes(33))
    send(conn, cid, payload(32, 1))
    wait_rx(64)
    print("received", len(rx), rx == payload(64, 2))
    ble.l2cap_disconnect(conn, cid)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    error("disconnect again", ble.l2cap_disconnect, conn, cid)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("disconnected")


# Connector (central).
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    error("send before connect", ble.l2cap_send, conn, 64, b"x")
    ble.l2cap_connect(conn, _PSM, _MTU)
    error("connect twice", ble.l2cap_connect, conn, _PSM, _MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    error("listen while connected", ble.l2cap_listen, _PSM, _MTU)
    error("send 451", ble.l2cap_send, conn, cid, bytes(451))
    error("wrong cid", ble.l2cap_send, conn, cid + 1, b"x")
    error("wrong conn", ble.l2cap_recvinto, conn + 1, cid, None)
    for n in SIZES:
        send(conn, cid, payload(n, n))
    wait_rx(7)
    print("reply", bytes(rx))
    rx[:] = b""
    ble.l2cap_disconnect(conn, cid)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    error("send after disconnect", ble.l2cap_send, conn, cid, b"x")
    # The connector's channel is free again; the listener still listens.
    ble.l2cap_connect(conn, _PSM, 10)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    error("send 65", ble.l2cap_send, conn, cid, bytes(65))
    send(conn, cid, payload(64, 2))
    wait_rx(32)
    print("received", len(rx), rx == payload(32, 1))
    wait_for(_IRQ_L2CAP_DISCONNECT)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    print("disconnected")
