# A bonding application keeps its keys the way upstream aioble's security module does: the
# irq handler records each secret and schedules a save that json.dump()s the bytes made
# printable by binascii.b2a_base64 (still bytes) into a file; loading gives str back, which
# a2b_base64 decodes. MicroPython's json writes bytes as strings, so this works on a board
# and must work on a virtual board too.
# multitest-skip: micropython-btstack -- pairing between the BTstack and NimBLE unix builds never completes (no encryption update; ble_gap_pair likewise)
from micropython import const, schedule
import binascii, json, os, time, machine, bluetooth

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

secrets = {}  # sec_type -> [(key, value)]
saves = []
queue = []


PATH = ["bond_store.json"]


def path():
    return PATH[0]


def save(_):
    with open(path(), "w") as f:
        json.dump([(t, binascii.b2a_base64(k), binascii.b2a_base64(v)) for t in secrets for k, v in secrets[t]], f)
    saves.append(1)


def load():
    found = {}
    with open(path()) as f:
        for t, k, v in json.load(f):
            found.setdefault(t, []).append((binascii.a2b_base64(k), binascii.a2b_base64(v)))
    return found


def irq(event, data):
    if event == _IRQ_SET_SECRET:
        sec_type, key, value = data
        key = bytes(key)
        entries = secrets.setdefault(sec_type, [])
        entries[:] = [e for e in entries if e[0] != key]
        if value is not None:
            entries.append((key, bytes(value)))
        schedule(save, None)
        return True
    if event == _IRQ_GET_SECRET:
        sec_type, index, key = data
        entries = secrets.get(sec_type, [])
        if key is None:
            return entries[index][1] if index < len(entries) else None
        key = bytes(key)
        for k, v in entries:
            if k == key:
                return v
        return None
    if event == _IRQ_ENCRYPTION_UPDATE:
        print("ENCRYPTION_UPDATE", data[1:])
    queue.append((event, data[0]))


def wait_for(event, timeout_ms=8000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, item in enumerate(queue):
            if item[0] == event:
                del queue[i]
                return item[1]
        machine.idle()
    print("timeout waiting for", event)


def check_store():
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while not saves and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()
    print("saved", bool(saves), "reloaded equal", load() == secrets, "peer record", bool(secrets.get(2)))
    os.remove(path())


ble = bluetooth.BLE()


def instance0():
    if not hasattr(bluetooth.BLE, "gap_pair"):
        multitest.skip()
    PATH[0] = "bond_store_peripheral.json"
    ble.config(bond=True)
    ble.active(1)
    ble.irq(irq)
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000)
    multitest.next()
    wait_for(_IRQ_CENTRAL_CONNECT)
    wait_for(_IRQ_ENCRYPTION_UPDATE)
    check_store()
    multitest.broadcast("stored")  # the link stays up until both sides have their keys
    wait_for(_IRQ_CENTRAL_DISCONNECT)
    ble.active(0)


def instance1():
    multitest.next()
    PATH[0] = "bond_store_central.json"
    ble.config(bond=True)
    ble.active(1)
    ble.irq(irq)
    ble.gap_connect(*BDADDR)
    conn = wait_for(_IRQ_PERIPHERAL_CONNECT)
    ble.gap_pair(conn)
    wait_for(_IRQ_ENCRYPTION_UPDATE)
    check_store()
    multitest.wait("stored")
    ble.gap_disconnect(conn)
    wait_for(_IRQ_PERIPHERAL_DISCONNECT)
    ble.active(0)
