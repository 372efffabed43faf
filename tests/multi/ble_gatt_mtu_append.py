# MTU exchange (min of both preferences, reported on both sides, payload limits after it)
# and gatts_set_buffer append mode collecting writes without response in order.
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_MTU_EXCHANGED = const(21)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_NOTIFY = const(0x0010)

SERVICE = bluetooth.UUID(0xC000)
BIG = bluetooth.UUID(0xC001)
LOG = bluetooth.UUID(0xC002)

queue = []


def irq(event, data):
    if event == _IRQ_MTU_EXCHANGED:
        print("MTU_EXCHANGED", data[1])
    elif event == _IRQ_GATTC_NOTIFY:
        print("NOTIFY length", len(data[2]))
    elif event == _IRQ_GATTC_READ_RESULT:
        print("READ_RESULT length", len(data[2]))
    queue.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout_ms=4000):
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


# Server: preferred MTU 200.
def instance0():
    ((h_big, h_log),) = ble.gatts_register_services(
        ((SERVICE, ((BIG, _FLAG_READ | _FLAG_NOTIFY), (LOG, _FLAG_WRITE_NO_RESPONSE))),)
    )
    ble.config(mtu=200)
    ble.gatts_write(h_big, bytes(range(250)))
    ble.gatts_set_buffer(h_log, 20, True)
    multitest.globals(BDADDR=ble.config("mac"), H_BIG=h_big, H_LOG=h_log)
    ble.gap_advertise(20000)
    multitest.next()
    conn = wait_for(_IRQ_CENTRAL_CONNECT)[0]
    ble.gatts_notify(conn, h_big)  # before the exchange: 20 bytes
    wait_for(_IRQ_MTU_EXCHANGED)
    multitest.wait("exchanged")
    ble.gatts_notify(conn, h_big)  # after: 197 bytes
    for _ in range(4):
        wait_for(_IRQ_GATTS_WRITE)
    print("append", ble.gatts_read(h_log))
    print("after read", ble.gatts_read(h_log))
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    ble.active(0)


# Client: preferred MTU 300.
def instance1():
    ble.config(mtu=300)
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[0]
    wait_for(_IRQ_GATTC_NOTIFY)
    ble.gattc_read(conn, H_BIG)
    wait_for(_IRQ_GATTC_READ_DONE)
    ble.gattc_exchange_mtu(conn)
    wait_for(_IRQ_MTU_EXCHANGED)
    multitest.broadcast("exchanged")
    wait_for(_IRQ_GATTC_NOTIFY)
    ble.gattc_read(conn, H_BIG)
    wait_for(_IRQ_GATTC_READ_DONE)
    for i in range(4):
        ble.gattc_write(conn, H_LOG, "item%d;" % i)
    time.sleep_ms(300)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)
