# L2CAP disconnect mid-transfer: the receiver closes the channel while the sender is
# stalled, then drops the whole connection during a second transfer. Each time both sides
# see _IRQ_L2CAP_DISCONNECT (before the connection's disconnect event), the sender's
# pending send ends, and l2cap_send on the closed channel raises OSError(EINVAL): no such channel.
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

_PSM = const(0x80)
_MTU = const(200)

queue = []
received = [0]
scratch = bytearray(_MTU)


def irq(event, data):
    if event == _IRQ_L2CAP_CONNECT:
        print("CONNECT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_DISCONNECT:
        print("DISCONNECT", data[2], data[3])
    elif event in (_IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_DISCONNECT):
        print("link down")
    elif event == _IRQ_L2CAP_RECV:
        return
    queue.append((event, tuple(data)))


def wait_for(*events, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] in events:
                del queue[i]
                return item
        machine.idle()
    print("timeout waiting for", events)
    return (None, (None, None, None, None, None))


def receive(conn, cid, count):
    # Read until `count` bytes have arrived; the sender is stalled whenever we are slow.
    deadline = time.ticks_add(time.ticks_ms(), 10000)
    while received[0] < count and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        received[0] += ble.l2cap_recvinto(conn, cid, scratch)
        machine.idle()


def send_until_closed(conn, cid):
    # Send forever; stop at the channel's end. Returns what the send after that raised.
    # (The DISCONNECT event may be handled between two sends, so a send can raise too.)
    chunk = bytes(range(_MTU))
    closed = False
    try:
        while True:
            if not ble.l2cap_send(conn, cid, chunk):
                if wait_for(_IRQ_L2CAP_SEND_READY, _IRQ_L2CAP_DISCONNECT)[0] == _IRQ_L2CAP_DISCONNECT:
                    closed = True
                    ble.l2cap_send(conn, cid, chunk)
    except OSError as e:
        if not closed:
            wait_for(_IRQ_L2CAP_DISCONNECT)
        return e.errno


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Receiver (peripheral, listener).
def instance0():
    ble.l2cap_listen(_PSM, _MTU)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[1][0]
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1][1]
    receive(conn, cid, 3000)
    print("closing after", received[0] >= 3000)
    ble.l2cap_disconnect(conn, cid)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1][1]
    received[0] = 0
    receive(conn, cid, 3000)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)


# Sender (central).
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[1][0]
    ble.l2cap_connect(conn, _PSM, _MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1][1]
    print("send after close", send_until_closed(conn, cid))
    ble.l2cap_connect(conn, _PSM, _MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1][1]
    errno = send_until_closed(conn, cid)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    print("send after link loss", errno)
