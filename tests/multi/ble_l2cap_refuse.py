# Refused L2CAP channels: the listener's _IRQ_L2CAP_ACCEPT handler decides (0/None accept,
# non-zero refuse, the value choosing the refusal); a connect to a PSM nobody listens on
# fails too. Each failure is an _IRQ_L2CAP_DISCONNECT with a non-zero status (NimBLE's
# codes: 6 no resources, 8 PSM not supported, 25 insufficient encryption), and the
# connector's channel is free again for the next attempt.
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

_PSM = const(22)
_MTU = const(450)

queue = []
answers = [1, 25, None]
scratch = bytearray(32)


def irq(event, data):
    if event == _IRQ_L2CAP_ACCEPT:
        answer = answers.pop(0)
        print("ACCEPT", data[2], data[3], data[4], "->", answer)
        return answer
    if event == _IRQ_L2CAP_CONNECT:
        print("CONNECT", data[2], data[3], data[4])
    elif event == _IRQ_L2CAP_DISCONNECT:
        print("DISCONNECT", data[2], data[3])
    elif event in (_IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_DISCONNECT):
        print("link down")
    elif event == _IRQ_L2CAP_RECV:
        n = ble.l2cap_recvinto(data[0], data[1], scratch)
        print("RECV", bytes(scratch[:n]))
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


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Listener (peripheral).
def instance0():
    ble.l2cap_listen(_PSM, _MTU)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    ble.l2cap_send(conn, cid, b"welcome")
    wait_for(_IRQ_CENTRAL_DISCONNECT)


# Connector (central).
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    for psm in (_PSM, 23, _PSM, _PSM):
        ble.l2cap_connect(conn, psm, _MTU)
        try:
            ble.l2cap_listen(_PSM, _MTU)
        except OSError as e:
            print("listen while connecting", e.errno)
        deadline = time.ticks_add(time.ticks_ms(), 5000)
        while not queue and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            machine.idle()
        if queue and queue[0][0] == _IRQ_L2CAP_CONNECT:
            break
        wait_for(_IRQ_L2CAP_DISCONNECT)
    wait_for(_IRQ_L2CAP_RECV)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
