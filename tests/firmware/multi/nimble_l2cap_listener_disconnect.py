# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's NimBLE
# binding keeps a listener's channel record after the channel closes (so it can accept
# again), and l2cap_disconnect on that closed channel reports success instead of EINVAL.
# multitest-skip: virtual@0, micropython-btstack -- records NimBLE-as-listener behaviour; instance0 must be the NimBLE firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_L2CAP_ACCEPT = const(22)
_IRQ_L2CAP_CONNECT = const(23)
_IRQ_L2CAP_DISCONNECT = const(24)

PSM = 22
MTU = 128
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


def outcome(fn, *args):
    try:
        fn(*args)
        return "no error"
    except OSError as e:
        return "OSError %d" % e.errno


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Listener (NimBLE).
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.l2cap_listen(PSM, MTU)
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    wait_for(_IRQ_CENTRAL_CONNECT)
    conn, cid = wait_for(_IRQ_L2CAP_CONNECT)[:2]
    print("channel open")
    ble.l2cap_disconnect(conn, cid)
    print("DISCONNECT", wait_for(_IRQ_L2CAP_DISCONNECT)[3])
    print("disconnect again", outcome(ble.l2cap_disconnect, conn, cid))
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("disconnected")


# Connector.
def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    ble.l2cap_connect(conn, PSM, MTU)
    cid = wait_for(_IRQ_L2CAP_CONNECT)[1]
    print("DISCONNECT", wait_for(_IRQ_L2CAP_DISCONNECT)[3])
    print("disconnect again", outcome(ble.l2cap_disconnect, conn, cid))
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    print("disconnected")
