# _bleio advertising options and scan options: extended (> 31 bytes) data, non-connectable,
# anonymous address, advertising timeout, tx_power, passive vs active scan, minimum_rssi,
# ScanResults ending at its timeout and at stop_scan.
# multitest-skip: micropython -- needs the port extensions advertising options (extended, anonymous, timeout) and advertising state (docs/port-extensions.md)
import time
import _bleio

LONG = b"\x02\x01\x06" + bytes((41, 0xFF)) + bytes(range(40))  # 45 bytes: extended advertising
TAG = b"\x04\xff\x34\x12\x01"  # manufacturer data used as the prefix of round 2
TAG_PREFIX = b"\x04\xff\x34\x12\x01"
RESP = b"\x04\x09res"


def scan_for(a, prefix, timeout=5, count=1, **kw):
    found = []
    for e in a.start_scan(prefix, timeout=timeout, **kw):
        found.append(e)
        if len(found) >= count:
            break
    a.stop_scan()
    return found


# Advertiser.
def instance0():
    a = _bleio.adapter
    multitest.globals(ADDR=a.address.address_bytes)
    a.start_advertising(LONG, connectable=False, interval=0.02)
    print("advertising", a.advertising)
    multitest.next()
    multitest.wait("round 2")
    a.stop_advertising()
    print("stopped", a.advertising)
    a.start_advertising(TAG, scan_response=RESP, connectable=False, interval=0.02, tx_power=-4)
    multitest.wait("round 3")
    a.stop_advertising()
    a.start_advertising(TAG, anonymous=True, timeout=2, interval=0.02)
    print("anonymous advertising", a.advertising)
    t0 = time.time()
    while a.advertising and time.time() - t0 < 10:
        time.sleep(0.05)
    print("timed out", not a.advertising)
    multitest.broadcast("adv over")


# Scanner.
def instance1():
    a = _bleio.adapter
    multitest.next()
    prefix = b"\xff" + bytes(range(40))  # a prefix is type byte + data, without the length byte
    prefix = bytes((len(prefix),)) + prefix
    print("legacy scan sees long data", len(scan_for(a, prefix, timeout=2)))
    (e,) = scan_for(a, prefix, extended=True, buffer_size=1024)
    print("extended", len(e.advertisement_bytes), e.advertisement_bytes == LONG, e.connectable, e.address.address_bytes == ADDR)
    multitest.broadcast("round 2")
    time.sleep(0.3)
    entries = scan_for(a, TAG_PREFIX + b"\x04\x09res", count=4, active=True)
    print("active", sorted(set((x.scan_response, x.advertisement_bytes) for x in entries)))
    entries = scan_for(a, TAG_PREFIX + b"\x04\x09res", count=4, timeout=2, active=False)
    print("passive", sorted(set((x.scan_response, x.advertisement_bytes) for x in entries)))
    print("minimum_rssi 20", len(scan_for(a, TAG_PREFIX, timeout=1, minimum_rssi=20)))
    t0 = time.time()
    results = a.start_scan(b"\x04\xff\x99\x99\x99", timeout=1)
    print("nothing matches, ends at timeout", list(results), time.time() - t0 < 5)
    results = a.start_scan(TAG_PREFIX)
    first = next(results)
    try:
        a.start_scan()
    except _bleio.BluetoothError as exc:
        print("BluetoothError", exc)
    a.stop_scan()
    list(results)  # buffered entries, then the end
    print("stop_scan ends it", first.address.address_bytes == ADDR)
    multitest.broadcast("round 3")
    (e,) = scan_for(a, TAG_PREFIX)
    print("anonymous", e.address.address_bytes != ADDR, e.address.type, e.connectable)
    multitest.wait("adv over")
    time.sleep(0.3)
    print("after timeout", len(scan_for(a, TAG_PREFIX, timeout=1)))
