# GATT server and client: discovery, reads (incl. a read-request hook and denials),
# writes with and without response, descriptors, and the peer addresses on both sides.
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_DESCRIPTOR_RESULT = const(13)
_IRQ_GATTC_DESCRIPTOR_DONE = const(14)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)

SERVICE = bluetooth.UUID("a5a5a5a5-0000-4000-8000-00805f9b0001")
CHAR_RW = bluetooth.UUID("a5a5a5a5-0001-4000-8000-00805f9b0001")
CHAR_COUNTER = bluetooth.UUID(0xA001)
CHAR_WO = bluetooth.UUID(0xA002)
DESC = bluetooth.UUID(0xA0D1)
SERVICES = (
    (SERVICE, (
        (CHAR_RW, _FLAG_READ | _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE, ((DESC, _FLAG_READ | _FLAG_WRITE),)),
        (CHAR_COUNTER, _FLAG_READ),
        (CHAR_WO, _FLAG_WRITE),
    )),
)

queue = []
reads = 0


def irq(event, data):
    global reads
    if event == _IRQ_GATTS_READ_REQUEST:
        conn, handle = data
        if handle == h_counter:
            reads += 1
            ble.gatts_write(h_counter, "reads=%d" % reads)  # reflected in this very read
        return 0
    # irq data (buffers, and on MicroPython the UUID object too) is only valid during the handler.
    copied = tuple(bytes(x) if isinstance(x, memoryview) else bluetooth.UUID(x) if isinstance(x, bluetooth.UUID) else x
                   for x in data)
    if event == _IRQ_GATTS_WRITE:
        # The value as this write left it: a later write may land before the main code looks.
        copied += (ble.gatts_read(data[1]),)
    queue.append((event, copied))


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
h_counter = None


# Server.
def instance0():
    global h_counter
    ((h_rw, h_desc, h_counter, h_wo),) = ble.gatts_register_services(SERVICES)
    print("handles in order", h_rw < h_desc < h_counter < h_wo)
    ble.gatts_write(h_rw, "initial")
    ble.gatts_write(h_desc, b"desc0")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    _, _, central_addr = wait_for(_IRQ_CENTRAL_CONNECT)
    for _ in range(4):
        conn, handle, value = wait_for(_IRQ_GATTS_WRITE)
        name = {h_rw: "rw", h_desc: "desc", h_wo: "wo"}.get(handle, handle)
        print("GATTS_WRITE", name, value)
    conn, handle, value = wait_for(_IRQ_GATTS_WRITE)
    print("central address matches", value == central_addr)
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    ble.active(0)


# Client.
def instance1():
    multitest.next()
    ble.gap_connect(*BDADDR)
    conn, addr_type, addr = wait_for(_IRQ_PERIPHERAL_CONNECT)
    print("connected to peer", (addr_type, addr) == BDADDR)

    ble.gattc_discover_services(conn)
    start = end = None
    while True:
        event, data = wait_event((_IRQ_GATTC_SERVICE_RESULT, _IRQ_GATTC_SERVICE_DONE))
        if event == _IRQ_GATTC_SERVICE_DONE:
            print("SERVICE_DONE", data[1])
            break
        if data[3] == SERVICE:
            start, end = data[1], data[2]
            # The last service may end at 0xFFFF (Core spec Vol 3 Part G 4.4.1; NimBLE does so).
            print("SERVICE_RESULT", data[3], "covers its 8 handles", end - start >= 7)

    ble.gattc_discover_characteristics(conn, start, end)
    chars = {}
    while True:
        event, data = wait_event((_IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_CHARACTERISTIC_DONE))
        if event == _IRQ_GATTC_CHARACTERISTIC_DONE:
            print("CHARACTERISTIC_DONE", data[1])
            break
        _, end_handle, value_handle, props, uuid = data
        chars[uuid] = value_handle
        # The last characteristic ends where its service does.
        print("CHARACTERISTIC_RESULT", uuid, "props", props, "end",
              "service end" if end_handle == end else end_handle - value_handle)

    h_rw, h_counter, h_wo = chars[CHAR_RW], chars[CHAR_COUNTER], chars[CHAR_WO]
    ble.gattc_discover_descriptors(conn, h_rw, h_counter - 2)
    h_desc = None
    while True:
        event, data = wait_event((_IRQ_GATTC_DESCRIPTOR_RESULT, _IRQ_GATTC_DESCRIPTOR_DONE))
        if event == _IRQ_GATTC_DESCRIPTOR_DONE:
            print("DESCRIPTOR_DONE", data[1])
            break
        print("DESCRIPTOR_RESULT", data[1] - h_rw, data[2])
        if data[2] == DESC:
            h_desc = data[1]

    for name, handle in (("rw", h_rw), ("desc", h_desc), ("counter", h_counter), ("counter", h_counter),
                         ("wo", h_wo)):
        ble.gattc_read(conn, handle)
        event, data = wait_event((_IRQ_GATTC_READ_RESULT, _IRQ_GATTC_READ_DONE))
        if event == _IRQ_GATTC_READ_RESULT:
            print("READ_RESULT", name, data[2])
            event, data = wait_event((_IRQ_GATTC_READ_DONE,))
        print("READ_DONE", name, data[2])

    ble.gattc_write(conn, h_rw, "written", 1)
    print("WRITE_DONE rw", wait_for(_IRQ_GATTC_WRITE_DONE)[2])
    ble.gattc_write(conn, h_desc, b"desc1", 1)
    print("WRITE_DONE desc", wait_for(_IRQ_GATTC_WRITE_DONE)[2])
    ble.gattc_write(conn, h_counter, b"nope", 1)
    print("WRITE_DONE counter", wait_for(_IRQ_GATTC_WRITE_DONE)[2])
    ble.gattc_write(conn, h_rw, b"no-response")
    ble.gattc_write(conn, h_wo, b"write-only", 1)
    print("WRITE_DONE wo", wait_for(_IRQ_GATTC_WRITE_DONE)[2])
    ble.gattc_write(conn, h_wo, bytes(ble.config("mac")[1]), 1)
    wait_for(_IRQ_GATTC_WRITE_DONE)
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)


def wait_event(wanted, timeout_ms=4000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        if queue:
            item = queue.pop(0)  # one step: a handler may run between any two lines
            if item[0] in wanted:
                return item
            print("unexpected event", item)
        machine.idle()
    print("timeout waiting for", wanted)
    return None, ()
