# A thermometer board (MicroPython `bluetooth` API): advertises, serves a temperature it
# notifies every second and an LED characteristic a central can write.
# Runs unchanged on a MicroPython board or on the desktop: bleboard run peripheral.py [NAME]
import sys
import struct
import time

import bluetooth
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)

ENV_SENSING = bluetooth.UUID(0x181A)
TEMPERATURE = bluetooth.UUID(0x2A6E)
LED = bluetooth.UUID("7e5a0001-0000-4000-8000-00805f9b34fb")

name = sys.argv[1] if len(sys.argv) > 1 else "bleboard-thermo"
ble = bluetooth.BLE()
ble.active(True)
((h_temp, h_led),) = ble.gatts_register_services(
    ((ENV_SENSING, ((TEMPERATURE, _FLAG_READ | _FLAG_NOTIFY), (LED, _FLAG_WRITE))),)
)
centrals = set()
done = False


def irq(event, data):
    global done
    if event == _IRQ_CENTRAL_CONNECT:
        centrals.add(data[0])
        print("central connected")
    elif event == _IRQ_CENTRAL_DISCONNECT:
        centrals.discard(data[0])
        print("central disconnected")
        done = True
    elif event == _IRQ_GATTS_WRITE and data[1] == h_led:
        print("LED set to", ble.gatts_read(h_led).decode())


ble.irq(irq)
payload = b"\x02\x01\x06" + bytes((len(name) + 1, 0x09)) + name.encode()
ble.gap_advertise(100000, payload, resp_data=b"\x03\x03\x1a\x18")
print("advertising as", name, "from", ":".join("%02x" % b for b in ble.config("mac")[1]))
temperature = 21.50
while not done:
    temperature += 0.25
    # Environmental Sensing temperature: sint16 in 0.01 degrees Celsius.
    ble.gatts_write(h_temp, struct.pack("<h", int(temperature * 100)), True)
    time.sleep_ms(1000 if not centrals else 300)
ble.active(False)
