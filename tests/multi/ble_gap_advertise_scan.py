# Advertising and scanning: passive vs active scan, scan responses, non-connectable.
from micropython import const
import time, machine, bluetooth

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)

ble = bluetooth.BLE()
ble.active(1)

seen = {}
scan_done = False


def irq(event, data):
    global scan_done
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        if (addr_type, bytes(addr)) == BDADDR:
            seen.setdefault(adv_type, bytes(adv_data))
    elif event == _IRQ_SCAN_DONE:
        scan_done = True


def scan(active):
    global scan_done
    seen.clear()
    scan_done = False
    ble.gap_scan(600, 20000, 20000, active)
    deadline = time.ticks_add(time.ticks_ms(), 3000)
    while not scan_done and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()
    print("scan done" if scan_done else "scan timeout")
    for adv_type in sorted(seen):
        print(adv_type, seen[adv_type])


# Advertiser.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20000, b"\x02\x01\x06\x05\x09adv0", resp_data=b"\x05\x09rsp0")
    multitest.next()
    multitest.wait("connectable scanned")
    ble.gap_advertise(20000, b"\x02\x01\x06\x05\x09adv1", connectable=False)
    multitest.wait("non-connectable scanned")
    ble.gap_advertise(20000, b"", resp_data=b"")
    multitest.wait("empty scanned")
    ble.gap_advertise(None)
    ble.active(0)


# Scanner.
def instance1():
    multitest.next()
    ble.irq(irq)
    print("passive")
    scan(False)
    print("active")
    scan(True)
    multitest.broadcast("connectable scanned")
    time.sleep_ms(100)
    print("non-connectable, active")
    scan(True)
    multitest.broadcast("non-connectable scanned")
    time.sleep_ms(100)
    print("empty payloads, active")
    scan(True)
    multitest.broadcast("empty scanned")
    ble.active(0)
