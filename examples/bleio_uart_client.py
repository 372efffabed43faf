"""UART client with adafruit_ble over bleboard's _bleio: finds a UART peripheral, sends lines,
prints the answers. Pair it with examples/bleio_uart_echo.py."""

import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
connection = None
print("scanning")
for adv in ble.start_scan(ProvideServicesAdvertisement, timeout=10):
    if UARTService in adv.services:
        connection = ble.connect(adv)
        break
ble.stop_scan()
if connection is None:
    raise SystemExit("no UART peripheral found")
uart = connection[UARTService]
for i in range(3):
    uart.write(b"hello %d\n" % i)
    print("answer", uart.readline())
    time.sleep(0.5)
connection.disconnect()
