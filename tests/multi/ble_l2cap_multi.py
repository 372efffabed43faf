# Several L2CAP channels on one connection, through the extension
# BLE.l2cap_max_channels(n) (MicroPython itself allows one channel per board): two PSMs,
# both channels carrying data at the same time, each checked; closing one leaves the other.
from micropython import const
import time, machine, bluetooth

if not hasattr(bluetooth.BLE, "l2cap_max_channels"):
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

PSMS = (0x80, 0x81)
_TOTAL = const(6000)

queue = []
by_cid = {}  # cid -> psm
rx = {}  # psm -> bytearray
ready = {}  # cid -> True once SEND_READY came
scratch = bytearray(100)


def irq(event, data):
    if event == _IRQ_L2CAP_CONNECT:
        by_cid[data[1]] = data[2]
        rx[data[2]] = bytearray()
    elif event == _IRQ_L2CAP_DISCONNECT:
        print("DISCONNECT", data[2], data[3])
    elif event == _IRQ_L2CAP_RECV:
        while True:
            n = ble.l2cap_recvinto(data[0], data[1], scratch)
            if not n:
                return
            rx[by_cid[data[1]]].extend(scratch[:n])
    elif event == _IRQ_L2CAP_SEND_READY:
        ready[data[1]] = True
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


def pattern(psm, size):
    return bytes((psm + i * 3) & 0xFF for i in range(size))


def send_both(conn, cids):
    # Interleave 200-byte chunks on both channels; wait for SEND_READY only where stalled.
    data = {cid: pattern(by_cid[cid], _TOTAL) for cid in cids}
    offset = {cid: 0 for cid in cids}
    stalled = {cid: False for cid in cids}
    deadline = time.ticks_add(time.ticks_ms(), 10000)
    while any(offset[c] < _TOTAL for c in cids) and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for cid in cids:
            if stalled[cid]:
                if not ready.pop(cid, False):
                    continue
                stalled[cid] = False
            if offset[cid] < _TOTAL:
                chunk = data[cid][offset[cid] : offset[cid] + 200]
                offset[cid] += len(chunk)
                stalled[cid] = not ble.l2cap_send(conn, cid, chunk)
        machine.idle()


def wait_rx(psms, timeout_ms=10000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while any(len(rx.get(p, b"")) < _TOTAL for p in psms) and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()
    for p in psms:
        print("PSM", p, "received", len(rx.get(p, b"")), rx.get(p) == pattern(p, _TOTAL))


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)
ble.l2cap_max_channels(2)


# Listener on two PSMs.
def instance0():
    for psm in PSMS:
        ble.l2cap_listen(psm, 256)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    cids = [wait_for(_IRQ_L2CAP_CONNECT)[1] for _ in PSMS]
    print("channels", sorted(by_cid[c] for c in cids), len(set(cids)))
    wait_rx(PSMS)
    send_both(conn, cids)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)


# Connector: both channels at once.
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    for psm in PSMS:
        ble.l2cap_connect(conn, psm, 256)
    try:
        ble.l2cap_connect(conn, PSMS[0], 256)
    except OSError as e:
        print("third channel", e.errno)
    cids = [wait_for(_IRQ_L2CAP_CONNECT)[1] for _ in PSMS]
    print("channels", sorted(by_cid[c] for c in cids), len(set(cids)))
    send_both(conn, cids)
    wait_rx(PSMS)
    first = [c for c in cids if by_cid[c] == PSMS[0]][0]
    ble.l2cap_disconnect(conn, first)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_L2CAP_DISCONNECT)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
