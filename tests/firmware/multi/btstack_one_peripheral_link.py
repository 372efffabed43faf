# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's BTstack
# binding keeps BTstack's default of one link as peripheral (and its configuration,
# MAX_NR_HCI_CONNECTIONS 1, has room for one connection). While a central is connected,
# gap_advertise returns without error but nothing goes on air, so a second central
# cannot find or connect to it. NimBLE advertises again and takes the second link.
# multitest-skip: virtual@0, micropython-nimble@0 -- records BTstack-as-peripheral behaviour; instance0 must be the BTstack firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
seen = []


def irq(event, data):
    data = tuple(bytes(x) if isinstance(x, memoryview) else x for x in data) + (None, None)
    seen.append((event, data[0], data[1]))


def scan_finds(addr):
    """Scan 1.5 s; whether `addr` advertised meanwhile."""
    ble.gap_scan(1500, 30000, 30000)
    wait_for(_IRQ_SCAN_DONE, 3000)
    found = any(e == _IRQ_SCAN_RESULT and d == addr for e, _, d in seen)
    seen[:] = [item for item in seen if item[0] != _IRQ_SCAN_RESULT]
    return found


def wait_for(event, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for item in seen:
            if item[0] == event:
                seen.remove(item)
                return item
        machine.idle()
    return None


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Peripheral (BTstack).
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    print("first connected", wait_for(_IRQ_CENTRAL_CONNECT) is not None)
    print("advertise again", ble.gap_advertise(20000, b"\x02\x01\x06"))
    multitest.broadcast("advertising")
    multitest.wait("scanned")
    print("first disconnected", wait_for(_IRQ_CENTRAL_DISCONNECT) is not None)
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.broadcast("advertising again")
    multitest.wait("scanned again")


# First central.
def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[1]
    print("connected")
    multitest.wait("scanned")
    ble.gap_disconnect(conn)
    print("disconnected", wait_for(_IRQ_PERIPHERAL_DISCONNECT) is not None)


# Second central: looks for the peripheral's advertising while the first link is up,
# then (the scan works) after it is gone.
def instance2():
    multitest.next()
    multitest.wait("advertising")
    print("sees the peripheral while it has a link", scan_finds(BDADDR[1]))
    multitest.broadcast("scanned")
    multitest.wait("advertising again")
    print("sees the peripheral after the link is gone", scan_finds(BDADDR[1]))
    multitest.broadcast("scanned again")
