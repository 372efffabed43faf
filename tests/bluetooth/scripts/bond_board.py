# A board that keeps its bonds in a JSON file, as an application does on a real board.
# usage: bleboard run bond_board.py peripheral|central STORE [PEER_ADDR_HEX]
import json
import os
import sys
import time

import bluetooth

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
    if event == 29:
        sec_type, index, key = data
        if key is None:
            values = [v for k, v in sorted(store.items()) if k.startswith("%d:" % sec_type)]
            return bytes.fromhex(values[index]) if index < len(values) else None
        value = store.get("%d:%s" % (sec_type, bytes(key).hex()))
        return bytes.fromhex(value) if value else None
    if event == 30:
        sec_type, key, value = data
        name = "%d:%s" % (sec_type, bytes(key).hex())
        if sec_type == 2:
            print("SET_SECRET peer record", "delete" if value is None else "store")
        if value is None:
            found = store.pop(name, None) is not None
        else:
            store[name] = bytes(value).hex()
            found = True
        save()
        return found
    if event == 31:
        print("PASSKEY_ACTION (unexpected)")
    if event == 28:
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
    wait_for(1)
    wait_for(28)
    wait_for(2)
else:
    ble.gap_connect(0, peer)
    conn = wait_for(7)[0]
    ble.gap_pair(conn)
    wait_for(28)
    time.sleep(0.5)  # an application uses the link a little before leaving
    ble.gap_disconnect(conn)
    wait_for(8)
ble.active(False)
