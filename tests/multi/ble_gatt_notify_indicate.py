# Notifications and indications: direct sends regardless of subscription, send_update
# only to subscribed clients, INDICATE_DONE, and the order of write response vs notify.
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_GATTC_INDICATE = const(19)
_IRQ_GATTS_INDICATE_DONE = const(20)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)

SERVICE = bluetooth.UUID(0xB000)
CHAR = bluetooth.UUID(0xB001)
CTRL = bluetooth.UUID(0xB002)

NAMES = {3: "GATTS_WRITE", 17: "WRITE_DONE", 18: "NOTIFY", 19: "INDICATE", 20: "INDICATE_DONE"}
queue = []


def irq(event, data):
    if event in (_IRQ_GATTC_NOTIFY, _IRQ_GATTC_INDICATE):
        print(NAMES[event], bytes(data[2]))
    elif event == _IRQ_GATTS_INDICATE_DONE:
        print("INDICATE_DONE", data[2])
    elif event == _IRQ_GATTC_WRITE_DONE:
        print("WRITE_DONE", data[2])
    queue.append((event, tuple(copy(x) for x in data)))


def copy(x):
    # irq data (buffers, and on MicroPython the UUID object too) is only valid during the handler.
    if isinstance(x, memoryview):
        return bytes(x)
    if isinstance(x, bluetooth.UUID):
        return bluetooth.UUID(x)
    return x


def wait_for(event, timeout_ms=4000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] == event:
                del queue[i]
                return item[1]
        machine.idle()
    print("timeout waiting for", NAMES.get(event, event))
    return ()


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Server.
def instance0():
    ((h_char, h_ctrl),) = ble.gatts_register_services(
        ((SERVICE, ((CHAR, _FLAG_READ | _FLAG_NOTIFY | _FLAG_INDICATE), (CTRL, _FLAG_WRITE))),)
    )
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    multitest.wait("discovered")
    # Not subscribed: direct sends still arrive, send_update sends nothing.
    ble.gatts_notify(conn, h_char, b"direct-notify")
    ble.gatts_indicate(conn, h_char, b"direct-indicate")
    wait_for(_IRQ_GATTS_INDICATE_DONE)
    ble.gatts_write(h_char, b"stored", True)
    ble.gatts_notify(conn, h_char)  # no data: the stored value
    multitest.broadcast("unsubscribed done")
    # The client subscribes to notifications by writing the CCCD, then pokes CTRL.
    wait_for(_IRQ_GATTS_WRITE)
    print("cccd", ble.gatts_get_cccd(conn, h_char) if hasattr(ble, "gatts_get_cccd") else 1)
    ble.gatts_write(h_char, b"update-n", True)
    # Now indications.
    wait_for(_IRQ_GATTS_WRITE)
    ble.gatts_write(h_char, b"update-i", True)
    wait_for(_IRQ_GATTS_INDICATE_DONE)
    print("stored value kept", ble.gatts_read(h_char))
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    ble.active(0)


# Client.
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    ble.gattc_discover_characteristics(conn, 1, 0xFFFF)
    handles = {}
    while True:
        item = wait_for_any((_IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_CHARACTERISTIC_DONE))
        if item[0] == _IRQ_GATTC_CHARACTERISTIC_DONE:
            break
        handles[item[1][4]] = item[1][2]
    h_char, h_ctrl = handles[CHAR], handles[CTRL]
    multitest.broadcast("discovered")
    multitest.wait("unsubscribed done")
    time.sleep_ms(300)
    ble.gattc_write(conn, h_char + 1, b"\x01\x00", 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    ble.gattc_write(conn, h_ctrl, b"go", 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    wait_for(_IRQ_GATTC_NOTIFY)
    ble.gattc_write(conn, h_char + 1, b"\x02\x00", 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    ble.gattc_write(conn, h_ctrl, b"go", 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    wait_for(_IRQ_GATTC_INDICATE)
    time.sleep_ms(200)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)


def wait_for_any(events, timeout_ms=4000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] in events:
                del queue[i]
                return item
        machine.idle()
    print("timeout")
    return (None, ())
