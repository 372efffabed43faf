# Shows an accepted upstream limitation (docs/firmware.md): MicroPython v1.28's BTstack
# binding never answers BTstack's SM_EVENT_JUST_WORKS_REQUEST (there is no
# sm_just_works_confirm call in extmod/btstack/modbluetooth_btstack.c), so Just Works
# pairing stops after the Pairing Response: neither side sees _IRQ_ENCRYPTION_UPDATE and
# the link stays unencrypted, with BTstack as responder (phase 1) and as initiator
# (phase 2). NimBLE completes both.
# multitest-skip: virtual@0, micropython-nimble@0 -- records BTstack behaviour; instance0 must be the BTstack firmware
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_ENCRYPTION_UPDATE = const(28)
seen = []


ADV = b"\x02\x01\x06\x05\xff\xff\xffJW"  # flags, then manufacturer data to find the peer by


def irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        seen.append((event, (data[0], bytes(data[1])), bytes(data[4])))
    elif event == _IRQ_ENCRYPTION_UPDATE:
        seen.append((event, data[0], data[1]))  # conn_handle, encrypted
    else:
        seen.append((event, data[0] if data else None, None))


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
ble.config(bond=False, mitm=False, io=3)  # NoInputNoOutput: Just Works
ble.active(1)
ble.irq(irq)


def find_peer():
    """The address of the advertiser carrying ADV (globals only pass to later instances)."""
    ble.gap_scan(3000, 30000, 30000)
    while True:
        item = wait_for(_IRQ_SCAN_RESULT)
        if item is None or item[2] == ADV:
            break
    ble.gap_scan(None)
    return item[1]


def encrypted(timeout_ms):
    """Whether an _IRQ_ENCRYPTION_UPDATE says the link is encrypted."""
    item = wait_for(_IRQ_ENCRYPTION_UPDATE, timeout_ms)
    return bool(item and item[2])


def respond(phase):
    ble.gap_advertise(20000, ADV)
    multitest.broadcast("advertising %d" % phase)
    wait_for(_IRQ_CENTRAL_CONNECT)
    multitest.wait("paired %d" % phase)
    print(phase, "responder encrypted", encrypted(1000))
    print(phase, "disconnected", wait_for(_IRQ_CENTRAL_DISCONNECT) is not None)


def initiate(phase):
    multitest.wait("advertising %d" % phase)
    addr = find_peer()
    ble.gap_connect(addr[0], addr[1])
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)[1]
    ble.gap_pair(conn)
    print(phase, "initiator encrypted", encrypted(5000))
    multitest.broadcast("paired %d" % phase)
    ble.gap_disconnect(conn)
    print(phase, "disconnected", wait_for(_IRQ_PERIPHERAL_DISCONNECT) is not None)


# BTstack: responder (peripheral), then initiator (central).
def instance0():
    multitest.next()
    respond(1)
    initiate(2)


def instance1():
    multitest.next()
    initiate(1)
    respond(2)
