# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's NimBLE
# binding never raises _IRQ_PASSKEY_ACTION on a connection it initiated (its handler for
# those links has no passkey case), so a central that must type a passkey cannot. The
# peripheral displays its number; the NimBLE central hears nothing and gives up.
# multitest-skip: virtual@1, micropython-btstack -- records NimBLE-as-central behaviour; instance1 must be the NimBLE firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_PASSKEY_ACTION = const(31)
_IO_DISPLAY_ONLY = const(0)
_IO_KEYBOARD_ONLY = const(2)

seen = []


def irq(event, data):
    if event == _IRQ_PASSKEY_ACTION:
        print("PASSKEY_ACTION", data[1])
        if data[1] == 3:  # display: the number is ours to choose
            ble.gap_passkey(data[0], data[1], 123456)
    seen.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout_ms):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for item in seen:
            if item[0] == event:
                seen.remove(item)
                return item[1]
        machine.idle()
    return None


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


def instance0():
    ble.config(io=_IO_DISPLAY_ONLY, mitm=True, bond=False)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    wait_for(_IRQ_CENTRAL_CONNECT, 5000)
    print("connected")
    wait_for(_IRQ_CENTRAL_DISCONNECT, 10000)
    print("disconnected")


def instance1():
    ble.config(io=_IO_KEYBOARD_ONLY, mitm=True, bond=False)
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT, 5000)[0]
    ble.gap_pair(conn)
    print("passkey action within 3 s", wait_for(_IRQ_PASSKEY_ACTION, 3000) is not None)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT, 5000)
    print("disconnected")
