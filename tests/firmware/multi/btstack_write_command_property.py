# Shows a BTstack difference (docs/firmware.md): MicroPython v1.28's BTstack server drops a
# Write Command (write without response) to a characteristic that lacks the
# write-without-response property: no _IRQ_GATTS_WRITE, the value is unchanged. NimBLE
# and our port accept it when the characteristic is writable at all. A Write Request to
# the same characteristic, and a Write Command to one with the property, arrive.
# multitest-skip: virtual@0, micropython-nimble@0 -- records BTstack-as-server behaviour; instance0 must be the BTstack firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_WRITE_DONE = const(17)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
seen = []


def irq(event, data):
    if event == _IRQ_GATTS_WRITE:
        data = (data[1], bytes(ble.gatts_read(data[1])))  # the value as written
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


# Server (BTstack).
def instance0():
    chars = ((bluetooth.UUID(0xE001), _FLAG_WRITE), (bluetooth.UUID(0xE002), _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE))
    ((write_only, with_command),) = ble.gatts_register_services(((bluetooth.UUID(0xE000), chars),))
    names = {write_only: "write-only", with_command: "with-command"}
    multitest.globals(BDADDR=ble.config("mac"), WRITE_ONLY=write_only, WITH_COMMAND=with_command)
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    wait_for(_IRQ_CENTRAL_CONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    for event, handle, value in seen:
        if event == _IRQ_GATTS_WRITE:
            print("write to", names[handle], value)
    print("write-only value", bytes(ble.gatts_read(write_only)))


# Client.
def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[1]
    ble.gattc_write(conn, WRITE_ONLY, b"command", 0)
    ble.gattc_write(conn, WITH_COMMAND, b"command", 0)
    time.sleep_ms(300)
    ble.gattc_write(conn, WRITE_ONLY, b"request", 1)
    print("request done", wait_for(_IRQ_GATTC_WRITE_DONE) is not None)
    ble.gap_disconnect(conn)
    print("disconnected", wait_for(_IRQ_PERIPHERAL_DISCONNECT) is not None)
