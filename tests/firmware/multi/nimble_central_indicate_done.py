# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's NimBLE
# binding never raises _IRQ_GATTS_INDICATE_DONE on a connection it initiated (its handler
# for those links has no notify-tx case). The central's indication still arrives and is
# confirmed by the peripheral; only the central's own "done" event is missing.
# multitest-skip: virtual@1, micropython-btstack -- records NimBLE-as-central behaviour; instance1 must be the NimBLE firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_INDICATE = const(19)
_IRQ_GATTS_INDICATE_DONE = const(20)

SERVICE = bluetooth.UUID(0xBEE0)
CHAR = bluetooth.UUID(0xBEE1)
seen = []


def irq(event, data):
    copied = []
    for x in data:
        if isinstance(x, memoryview):
            x = bytes(x)
        elif isinstance(x, bluetooth.UUID):
            x = bluetooth.UUID(x)  # MicroPython reuses the object after the handler
        copied.append(x)
    seen.append((event, tuple(copied)))


def wait_for(event, timeout_ms):
    item = wait_any((event,), timeout_ms)
    return item[1] if item else None


def wait_any(events, timeout_ms):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for item in seen:
            if item[0] in events:
                seen.remove(item)
                return item
        machine.idle()
    return None


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Peripheral, and GATT client of the central's server.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT, 5000)[0]
    multitest.wait("serving")
    ble.gattc_discover_characteristics(conn, 1, 0xFFFF)
    handle = None
    while True:
        event, data = wait_any((_IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_CHARACTERISTIC_DONE), 5000)
        if event == _IRQ_GATTC_CHARACTERISTIC_DONE:
            break
        if data[4] == CHAR:
            handle = data[2]
    ble.gattc_write(conn, handle + 1, b"\x02\x00", 1)  # subscribe to indications
    print("subscribed", wait_for(_IRQ_GATTC_WRITE_DONE, 5000)[2])
    multitest.broadcast("subscribed")
    print("indication", wait_for(_IRQ_GATTC_INDICATE, 5000)[2])
    wait_for(_IRQ_CENTRAL_DISCONNECT, 10000)
    print("disconnected")


# Central, and GATT server with an indicating characteristic.
def instance1():
    ((handle,),) = ble.gatts_register_services(((SERVICE, ((CHAR, 0x0022),)),))  # read, indicate
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT, 5000)[0]
    multitest.broadcast("serving")
    multitest.wait("subscribed")
    ble.gatts_indicate(conn, handle, b"hello")
    print("indicate done within 3 s", wait_for(_IRQ_GATTS_INDICATE_DONE, 3000) is not None)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT, 5000)
    print("disconnected")
