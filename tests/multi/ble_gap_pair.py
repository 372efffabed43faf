# Pairing over the air: just works initiated by the central, then passkey entry initiated by
# the peripheral with the application choosing and typing the number; encrypted reads.
# multitest-skip: micropython@1 -- NimBLE v1.28 as central never raises _IRQ_PASSKEY_ACTION (docs/firmware.md; shown by tests/firmware/multi/nimble_central_passkey.py)
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_PASSKEY_ACTION = const(31)

_FLAG_READ = const(0x0002)
_FLAG_READ_ENCRYPTED = const(0x0200)
_FLAG_READ_AUTHENTICATED = const(0x0400)
_IO_DISPLAY_ONLY = const(0)
_IO_KEYBOARD_ONLY = const(2)
_PASSKEY_ACTION_INPUT = const(2)
_PASSKEY_ACTION_DISPLAY = const(3)

SERVICE = bluetooth.UUID(0xE200)
SECRET = bluetooth.UUID(0xE201)
AUTH = bluetooth.UUID(0xE202)
PASSKEY = 314159

queue = []


def irq(event, data):
    if event == _IRQ_ENCRYPTION_UPDATE:
        print("ENCRYPTION_UPDATE", data[1:])
    elif event == _IRQ_PASSKEY_ACTION:
        conn, action, number = data
        print("PASSKEY_ACTION", action, number)
        if action == _PASSKEY_ACTION_DISPLAY:
            print("showing", PASSKEY)
        ble.gap_passkey(conn, action, PASSKEY)
    elif event == _IRQ_GATTC_READ_RESULT:
        print("READ_RESULT", bytes(data[2]))
    elif event == _IRQ_GATTC_READ_DONE:
        print("READ_DONE", data[2])
    if event in (29, 30):
        return None
    queue.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout_ms=8000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] == event:
                del queue[i]
                return item[1]
        machine.idle()
    print("timeout waiting for", event)
    return ()


ble = bluetooth.BLE()


def instance0():
    if not hasattr(bluetooth.BLE, "gap_pair"):
        multitest.skip()
    ble.config(io=_IO_DISPLAY_ONLY, mitm=True)
    ble.active(1)
    ble.irq(irq)
    ((h_secret, h_auth),) = ble.gatts_register_services(
        ((SERVICE, ((SECRET, _FLAG_READ | _FLAG_READ_ENCRYPTED), (AUTH, _FLAG_READ | _FLAG_READ_AUTHENTICATED))),)
    )
    ble.gatts_write(h_secret, b"encrypted only")
    ble.gatts_write(h_auth, b"authenticated only")
    multitest.globals(BDADDR=ble.config("mac"), H_SECRET=h_secret, H_AUTH=h_auth)
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    multitest.wait("just works done")
    # Now the peripheral asks for security; the central's stack pairs with passkey entry.
    ble.gap_pair(conn)
    wait_for(_IRQ_ENCRYPTION_UPDATE)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    ble.active(0)


def instance1():
    multitest.next()
    ble.active(1)
    ble.irq(irq)
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    ble.gattc_read(conn, H_SECRET)
    wait_for(_IRQ_GATTC_READ_DONE)
    ble.gap_pair(conn)  # no I/O here yet: just works
    wait_for(_IRQ_ENCRYPTION_UPDATE)
    ble.gattc_read(conn, H_SECRET)
    wait_for(_IRQ_GATTC_READ_DONE)
    ble.gattc_read(conn, H_AUTH)
    wait_for(_IRQ_GATTC_READ_DONE)
    ble.config(io=_IO_KEYBOARD_ONLY, mitm=True)
    multitest.broadcast("just works done")
    wait_for(_IRQ_ENCRYPTION_UPDATE)
    ble.gattc_read(conn, H_AUTH)
    wait_for(_IRQ_GATTC_READ_DONE)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)
