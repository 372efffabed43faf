# Connect and disconnect, initiated from each side, with the addresses each side reports.
# multitest-skip: micropython-btstack -- BTstack v1.28 reports disconnects with addr_type 255, and gap_disconnect of a closed link returns True and raises a made-up _IRQ_PERIPHERAL_DISCONNECT (docs/firmware.md; shown by tests/firmware/multi/btstack_disconnect_events.py)
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)

NAMES = {1: "CENTRAL_CONNECT", 2: "CENTRAL_DISCONNECT", 7: "PERIPHERAL_CONNECT", 8: "PERIPHERAL_DISCONNECT"}

events = []


def irq(event, data):
    # Recorded here (the address is only valid during the call), printed by the waiter:
    # a disconnect may be handled before the code that asked for it prints the answer.
    if event in NAMES:
        conn, addr_type, addr = data
        if PEER is None:
            seen = "%d %d" % (addr_type, len(addr))  # the central's address comes later
        else:
            seen = "peer" if (addr_type, bytes(addr)) == PEER else str(bytes(addr))
        events.append((event, conn, seen))


def wait_for(event, timeout_ms=4000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, (e, conn, seen) in enumerate(events):
            if e == event:
                del events[i]
                print(NAMES[event], seen)
                return conn
        machine.idle()
    print("timeout waiting for", NAMES[event])


PEER = None
ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Peripheral.
def instance0():
    multitest.globals(PERIPHERAL=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    wait_for(_IRQ_CENTRAL_CONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    # Advertising stopped at the first connection: start again for the second one.
    ble.gap_advertise(20000)
    conn = wait_for(_IRQ_CENTRAL_CONNECT)
    print("gap_disconnect", ble.gap_disconnect(conn))
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("gap_disconnect again", ble.gap_disconnect(conn))
    ble.active(0)


# Central.
def instance1():
    global PEER
    multitest.next()
    PEER = PERIPHERAL
    ble.gap_connect(*PERIPHERAL)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)
    print("gap_disconnect", ble.gap_disconnect(conn))
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.gap_connect(*PERIPHERAL)
    wait_for(_IRQ_PERIPHERAL_CONNECT)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)
