# One peripheral, two centrals connected at once: each link is addressed separately.
# multitest-skip: micropython-btstack@0 -- BTstack v1.28 takes one link as peripheral: it does not advertise while a central is connected, so the second central cannot connect (docs/firmware.md; shown by tests/firmware/multi/btstack_one_peripheral_link.py)
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_NOTIFY = const(18)

_FLAG_READ = const(0x0002)
_FLAG_NOTIFY = const(0x0010)

queue = []


def irq(event, data):
    queue.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout_ms=5000):
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
ble.active(1)
ble.irq(irq)


def instance0():
    ((h,),) = ble.gatts_register_services(((bluetooth.UUID(0xD000), ((bluetooth.UUID(0xD001), _FLAG_READ | _FLAG_NOTIFY),)),))
    multitest.globals(BDADDR=ble.config("mac"), HANDLE=h)
    ble.gap_advertise(20000)
    multitest.next()
    first = wait_for(_IRQ_CENTRAL_CONNECT)
    ble.gap_advertise(20000)
    second = wait_for(_IRQ_CENTRAL_CONNECT)
    print("two links", first[0] != second[0], first[2] != second[2])
    multitest.wait("both connected")
    ble.gatts_notify(first[0], h, b"to-first")
    ble.gatts_notify(second[0], h, b"to-second")
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    print("both gone")
    ble.active(0)


def central(name, other):
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    if other:
        multitest.broadcast("both connected")
    data = wait_for(_IRQ_GATTC_NOTIFY)
    print(name, "got", data[2] if data else None)
    time.sleep_ms(300)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)


def instance1():
    multitest.next()
    central("first", False)


def instance2():
    time.sleep_ms(500)
    multitest.next()
    central("second", True)
