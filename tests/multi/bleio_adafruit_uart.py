# adafruit_ble, unchanged from PyPI, over our _bleio: ProvideServicesAdvertisement, scan by
# advertisement type, connect, connection[UARTService], UART both ways, disconnect.
import time

import bluetooth

try:
    from adafruit_ble import BLERadio
    from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
    from adafruit_ble.services.nordic import UARTService
except ImportError:
    print("SKIP")
    raise SystemExit from None


def read_line(uart, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        line = uart.readline()
        if line:
            return line
    return None


# Peripheral: UART server.
def instance0():
    ble = BLERadio()
    uart = UARTService()
    adv = ProvideServicesAdvertisement(uart)
    ble.start_advertising(adv)
    print("advertising", ble.advertising, ble.name.startswith("CIRCUITPY"), len(ble.name))
    multitest.next()
    t0 = time.time()
    while not ble.connected and time.time() - t0 < 10:
        time.sleep(0.01)
    print("connected", ble.connected)
    print("got", read_line(uart))
    uart.write(b"pong " + b"x" * 40 + b"\n")  # longer than one 20-byte write
    print("got", read_line(uart))
    t0 = time.time()
    while ble.connected and time.time() - t0 < 10:
        time.sleep(0.01)
    print("disconnected", not ble.connected)


# Central: UART client.
def instance1():
    ble = BLERadio()
    multitest.next()
    conn = None
    for adv in ble.start_scan(ProvideServicesAdvertisement, timeout=10):
        if UARTService in adv.services:
            print("found", type(adv).__name__, adv.connectable)
            conn = ble.connect(adv)
            break
    ble.stop_scan()
    print("connected", conn.connected, ble.connected, len(ble.connections))
    print("has uart", UARTService in conn)
    uart = conn[UARTService]
    if hasattr(bluetooth.BLE, "gap_pair"):
        conn.pair()  # BLEConnection.pair -> _bleio Connection.pair
    print("paired", conn.paired)
    uart.write(b"ping\n")
    print("got", read_line(uart))
    uart.write(b"bye\n")
    time.sleep(0.5)
    conn.disconnect()
    print("connected", conn.connected)
