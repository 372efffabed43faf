# A board that keeps its bonds in a JSON file, as an application does on a real board.
# usage: bleboard run bond_board.py peripheral|central STORE [PEER_ADDR_HEX]
import json
import os
import sys
import time

import bluetooth

IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_PERIPHERAL_CONNECT = 7
IRQ_PERIPHERAL_DISCONNECT = 8
IRQ_ENCRYPTION_UPDATE = 28
IRQ_GET_SECRET = 29
IRQ_SET_SECRET = 30
IRQ_PASSKEY_ACTION = 31
SEC_PEER = 2  # the peer's bond record

role, store_path = sys.argv[1], sys.argv[2]
peer = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else None

try:
    with open(store_path) as f:
        store = json.load(f)
except OSError:
    store = {}
events = []


def save():
    tmp = store_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(store, f)
    os.replace(tmp, store_path)


def irq(event, data):
    if event == IRQ_GET_SECRET:
        sec_type, index, key = data
        if key is None:
            values = [v for k, v in sorted(store.items()) if k.startswith("%d:" % sec_type)]
            return bytes.fromhex(values[index]) if index < len(values) else None
        value = store.get("%d:%s" % (sec_type, bytes(key).hex()))
        return bytes.fromhex(value) if value else None
    if event == IRQ_SET_SECRET:
        sec_type, key, value = data
        name = "%d:%s" % (sec_type, bytes(key).hex())
        if sec_type == SEC_PEER:
            print("SET_SECRET peer record", "delete" if value is None else "store")
        if value is None:
            found = store.pop(name, None) is not None
        else:
            store[name] = bytes(value).hex()
            found = True
        save()
        return found
    if event == IRQ_PASSKEY_ACTION:
        print("PASSKEY_ACTION (unexpected)")
    if event == IRQ_ENCRYPTION_UPDATE:
        print("ENCRYPTION_UPDATE", tuple(data[1:]))
    events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))


def wait_for(event, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for item in events:
            if item[0] == event:
                events.remove(item)
                return item[1]
        time.sleep(0.01)
    print("timeout waiting for", event)
    sys.exit(1)


ble = bluetooth.BLE()
ble.config(bond=True)
ble.irq(irq)
ble.active(True)
if role == "peripheral":
    print("ADDR", ble.config("mac")[1].hex(), flush=True)
    ble.gap_advertise(20000)
    wait_for(IRQ_CENTRAL_CONNECT)
    wait_for(IRQ_ENCRYPTION_UPDATE)
    wait_for(IRQ_CENTRAL_DISCONNECT)
else:
    ble.gap_connect(0, peer)
    conn = wait_for(IRQ_PERIPHERAL_CONNECT)[0]
    ble.gap_pair(conn)
    wait_for(IRQ_ENCRYPTION_UPDATE)
    time.sleep(0.5)  # an application uses the link a little before leaving
    ble.gap_disconnect(conn)
    wait_for(IRQ_PERIPHERAL_DISCONNECT)
ble.active(False)
