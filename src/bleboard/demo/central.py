# A central board (MicroPython `bluetooth` API): finds the thermometer by name, connects,
# discovers its service, reads and subscribes to the temperature, and switches its LED.
# Runs unchanged on a MicroPython board or on the desktop: bleboard run central.py [NAME]
import sys
import struct
import time

import bluetooth
from micropython import const

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)

TEMPERATURE = bluetooth.UUID(0x2A6E)
LED = bluetooth.UUID("7e5a0001-0000-4000-8000-00805f9b34fb")

name = (sys.argv[1] if len(sys.argv) > 1 else "bleboard-thermo").encode()
ble = bluetooth.BLE()
ble.active(True)
state = {"peer": None, "conn": None, "chars": {}, "discovered": False, "notes": 0, "written": False, "gone": False}


def adv_name(adv):
    i = 0
    while i + 1 < len(adv):
        length, kind = adv[i], adv[i + 1]
        if kind == 0x09:
            return bytes(adv[i + 2 : i + 1 + length])
        i += 1 + length
    return None


def celsius(raw):
    return struct.unpack("<h", raw)[0] / 100


def irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv = data
        if state["peer"] is None and adv_name(adv) == name:
            state["peer"] = (addr_type, bytes(addr))
            print("found", name.decode(), "rssi", rssi)
            ble.gap_scan(None)
    elif event == _IRQ_SCAN_DONE and state["peer"]:
        ble.gap_connect(*state["peer"])
    elif event == _IRQ_PERIPHERAL_CONNECT:
        state["conn"] = data[0]
        print("connected")
        ble.gattc_discover_characteristics(data[0], 1, 0xFFFF)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        state["chars"][bluetooth.UUID(data[4])] = data[2]
    elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
        state["discovered"] = True
        ble.gattc_read(data[0], state["chars"][TEMPERATURE])
    elif event == _IRQ_GATTC_READ_RESULT:
        print("read temperature %.2f C" % celsius(data[2]))
        # Subscribe: write 1 to the CCCD right after the value handle.
        ble.gattc_write(data[0], state["chars"][TEMPERATURE] + 1, b"\x01\x00", 1)
    elif event == _IRQ_GATTC_NOTIFY:
        state["notes"] += 1
        print("notified temperature %.2f C" % celsius(data[2]))
    elif event == _IRQ_GATTC_WRITE_DONE and data[1] == state["chars"].get(LED):
        state["written"] = True
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        state["gone"] = True


ble.irq(irq)
print("scanning for", name.decode())
ble.gap_scan(10000, 30000, 30000, True)
deadline = time.ticks_add(time.ticks_ms(), 15000)
while state["notes"] < 3 and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep_ms(50)
if state["conn"] is None:
    print("no thermometer found")
    sys.exit(1)
print("switching the LED on")
ble.gattc_write(state["conn"], state["chars"][LED], b"on", 1)
while not state["written"] and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep_ms(20)
ble.gap_disconnect(state["conn"])
while not state["gone"] and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep_ms(20)
print("disconnected")
ble.active(False)
