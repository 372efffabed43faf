# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's BTstack
# binding reports a disconnect with addr_type 255 (it has dropped the link's record by
# then), and gap_disconnect on the closed handle still returns True (NimBLE: False): BTstack
# answers a disconnect of an unknown handle with a made-up Disconnection Complete, which
# the binding raises as _IRQ_PERIPHERAL_DISCONNECT (a link without a record counts as
# central-role), even on a peripheral.
# multitest-skip: virtual@0, micropython-nimble@0 -- records BTstack-as-peripheral behaviour; instance0 must be the BTstack firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
NAMES = {1: "CENTRAL_CONNECT", 2: "CENTRAL_DISCONNECT", 7: "PERIPHERAL_CONNECT", 8: "PERIPHERAL_DISCONNECT"}
seen = []


def irq(event, data):
    seen.append((event, data[0], data[1]))


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
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[1]
    print("connected")
    time.sleep_ms(200)
    ble.gap_disconnect(conn)
    time.sleep_ms(1000)
    for event, _, addr_type in seen:
        print(NAMES[event], "addr_type", addr_type)
    seen.clear()
    print("gap_disconnect again", ble.gap_disconnect(conn))
    time.sleep_ms(200)
    for event, handle, addr_type in seen:
        print("then", NAMES[event], "same handle", handle == conn, "addr_type", addr_type)


# Central (NimBLE).
def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    wait_for(_IRQ_PERIPHERAL_CONNECT)
    print("disconnected", wait_for(_IRQ_PERIPHERAL_DISCONNECT) is not None)
