# _bleio: advertise with a scan response, scan with prefixes (entries and scan responses apart),
# connect by address, disconnect from each side.
import time
import _bleio

NAME = b"bleio-periph"
ADV = b"\x02\x01\x06" + bytes((len(NAME) + 1, 0x09)) + NAME
RESP = b"\x05\xff\x34\x12\xab\xcd"
# Prefix list: one prefix = the Complete Local Name structure's type byte + name.
PREFIX = bytes((len(NAME) + 1, 0x09)) + NAME


def wait_until(cond, timeout=5.0):
    t0 = time.monotonic() if hasattr(time, "monotonic") else time.time()
    while not cond():
        if (time.monotonic() if hasattr(time, "monotonic") else time.time()) - t0 > timeout:
            return False
        time.sleep(0.01)
    return True


# Peripheral.
def instance0():
    a = _bleio.adapter
    multitest.globals(PERIPH=a.address.address_bytes, PERIPH_TYPE=a.address.type)
    a.start_advertising(ADV, scan_response=RESP, interval=0.02)
    print("advertising", a.advertising)
    try:
        a.start_advertising(ADV)
    except _bleio.BluetoothError as e:
        print("BluetoothError", e)
    multitest.next()
    print("connected", wait_until(lambda: a.connected, 10))
    print("advertising after connect", a.advertising)
    conn = a.connections[0]
    print("peer is central", conn.connected)
    print("disconnected", wait_until(lambda: not conn.connected, 10))
    # Second round: we disconnect.
    a.start_advertising(ADV, interval=0.02)
    print("connected", wait_until(lambda: a.connected, 10))
    multitest.wait("ready")
    a.connections[0].disconnect()
    print("our side", a.connected)


# Central.
def instance1():
    a = _bleio.adapter
    multitest.next()
    periph = _bleio.Address(PERIPH, PERIPH_TYPE)
    # With a prefix: only packets holding that structure (so no scan responses here).
    kinds = set()
    n = 0
    for entry in a.start_scan(PREFIX, timeout=5, active=True):
        if entry.address == periph:
            kinds.add(entry.scan_response)
            n += 1
            if n == 3:
                break
    a.stop_scan()
    print("prefixed", n, sorted(kinds))
    # Without: advertisement and scan response come as separate entries.
    adv = resp = None
    for entry in a.start_scan(timeout=5, active=True):
        if entry.address != periph:
            continue
        if entry.scan_response:
            resp = resp or entry
        else:
            adv = adv or entry
        if adv and resp:
            break
    a.stop_scan()
    print("adv", adv.advertisement_bytes == ADV, adv.connectable, adv.scan_response)
    print("resp", resp.advertisement_bytes == RESP, resp.scan_response)
    print("matches", adv.matches(PREFIX), adv.matches(b"\x02\xff\x00"), adv.matches(PREFIX + b"\x02\xff\x00", match_all=False))
    conn = a.connect(periph, timeout=5)
    print("connected", conn.connected, a.connected, len(a.connections))
    conn.disconnect()
    print("disconnected", conn.connected, a.connected)
    try:
        conn.max_packet_length
    except _bleio.ConnectionError:
        print("ConnectionError")
    time.sleep(0.5)
    conn = a.connect(periph, timeout=5)
    print("connected again", conn.connected)
    multitest.broadcast("ready")
    print("peer disconnected", wait_until(lambda: not conn.connected, 10))
