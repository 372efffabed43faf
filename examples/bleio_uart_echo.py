"""UART echo peripheral with adafruit_ble over bleboard's _bleio (runs unchanged on CircuitPython).

    bleboard run examples/bleio_uart_echo.py        # a virtual board on the shared radio
    python examples/bleio_uart_echo.py              # or plain Python (same radio)

Connect with examples/bleio_uart_client.py (or any Nordic-UART app on a real radio).
"""

import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
uart = UARTService()
advertisement = ProvideServicesAdvertisement(uart)

while True:
    ble.start_advertising(advertisement)
    print("advertising as", ble.name)
    while not ble.connected:
        time.sleep(0.05)
    print("connected")
    while ble.connected:
        line = uart.readline()
        if line:
            print("echo", line)
            uart.write(line.upper())
    print("disconnected")
