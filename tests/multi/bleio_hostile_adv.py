# _bleio scanning malformed advertising data sent over the air by a plain `bluetooth` board:
# structures that overrun the packet, zero lengths, garbage. The ScanResults iterator never
# raises, filters by prefix only on well-formed structures, and matches() stays safe.
import time
import bluetooth
import _bleio

PAYLOADS = (
    b"\x1f\x09overrun",  # claims 31 bytes, has 8
    b"\x00\x00\x00\x00",  # zero-length structures only
    b"\x03\xff\x34\x12\x00\x07\x09tagged",  # zero length in the middle: the walk stops there
    b"\xff" * 31,  # garbage
    b"\x02\x01\x06\x07\x09tagged",  # well formed: the only one with the name structure
    b"",  # empty
)


# Plain-bluetooth advertiser cycling through the payloads.
def instance0():
    ble = bluetooth.BLE()
    ble.active(1)
    multitest.globals(ADDR=ble.config("mac")[1])
    multitest.next()
    t0 = time.ticks_ms()
    i = 0
    half = False
    while time.ticks_diff(time.ticks_ms(), t0) < 8000:
        ble.gap_advertise(20000, PAYLOADS[i % len(PAYLOADS)], connectable=False)
        i += 1
        time.sleep_ms(100)
        if not half and time.ticks_diff(time.ticks_ms(), t0) > 4000:
            print("halfway")  # (the runner calls an instance silent for 10 s a TIMEOUT)
            half = True
    ble.gap_advertise(None)
    print("done")


# _bleio scanner.
def instance1():
    a = _bleio.adapter
    multitest.next()
    mine = bytes(reversed(ADDR))
    seen = set()
    tagged = set()
    for e in a.start_scan(timeout=3, minimum_rssi=-127):
        if e.address.address_bytes != mine:
            continue
        seen.add(e.advertisement_bytes)
        e.matches(b"\x07\x09tagged")
        e.matches(b"\x01\x09\x02\xff\x34", match_all=False)
    for e in a.start_scan(b"\x07\x09tagged", timeout=3, minimum_rssi=-127):
        if e.address.address_bytes == mine:
            tagged.add(e.advertisement_bytes)
    print("payloads heard", sorted(seen) == sorted(PAYLOADS))
    print("prefix filter", sorted(tagged))
