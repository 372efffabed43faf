# _bleio GATT both ways: local service with characteristics and descriptors, discovery with a
# whitelist, remote read/write, local and remote length rules, CCCD + CharacteristicBuffer,
# PacketBuffer in both directions, connection_interval.
# multitest-skip: micropython -- needs the port extensions attribute length rules (gatts_set_length) and connection parameters (gap_connection_update) (docs/port-extensions.md)
import time
import _bleio

SVC = _bleio.UUID("12345678-1234-5678-1234-56789abcdef0")
OTHER = _bleio.UUID(0x181A)
RW = _bleio.UUID(0xFF01)  # read/write, max_length 8
FIXED = _bleio.UUID(0xFF02)  # read/write, fixed 4 bytes
NOTE = _bleio.UUID(0xFF03)  # notify -> CharacteristicBuffer on the client
PKT = _bleio.UUID(0xFF04)  # notify + write-no-response -> PacketBuffer on both sides
DESC = _bleio.UUID(0xFF10)
C = _bleio.Characteristic
NAME = b"bleio-gatt"
ADV = b"\x02\x01\x06" + bytes((len(NAME) + 1, 0x09)) + NAME


def wait_until(cond, timeout=5.0):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout:
            return False
        time.sleep(0.01)
    return True


# Peripheral (GATT server).
def instance0():
    a = _bleio.adapter
    svc = _bleio.Service(SVC)
    _bleio.Service(OTHER)
    rw = C.add_to_service(svc, RW, properties=C.READ | C.WRITE, max_length=8, initial_value=b"hello", user_description="rw")
    fixed = C.add_to_service(svc, FIXED, properties=C.READ | C.WRITE, max_length=4, fixed_length=True)
    note = C.add_to_service(svc, NOTE, properties=C.NOTIFY, max_length=20)
    pkt = C.add_to_service(svc, PKT, properties=C.NOTIFY | C.WRITE_NO_RESPONSE, max_length=20)
    _bleio.Descriptor.add_to_characteristic(rw, DESC, initial_value=b"desc", max_length=8)
    print("fixed initial", fixed.value)
    try:
        rw.value = b"123456789"
    except ValueError as e:
        print("ValueError", e)
    print("kept", rw.value)
    try:
        fixed.value = b"12"
    except ValueError as e:
        print("ValueError", e)
    pbuf = _bleio.PacketBuffer(pkt, buffer_size=4)
    multitest.globals(PERIPH=a.address.address_bytes, PERIPH_TYPE=a.address.type)
    a.start_advertising(ADV, interval=0.02)
    multitest.next()
    wait_until(lambda: a.connected, 10)
    multitest.wait("written")
    print("rw now", rw.value)
    print("fixed now", fixed.value)
    multitest.wait("subscribed")
    for i in range(3):
        note.value = b"line %d\n" % i
    multitest.wait("packets sent")
    buf = bytearray(20)
    got = []
    wait_until(lambda: len(pbuf._packets) >= 2, 5)
    for _ in range(2):
        n = pbuf.readinto(buf)
        got.append(bytes(buf[:n]))
    print("server packets", got, "outgoing", pbuf.outgoing_packet_length)
    print("write", pbuf.write(b"to-client", header=b"H:"))
    multitest.wait("done")
    wait_until(lambda: not a.connected, 10)
    print("disconnected")


# Central (GATT client).
def instance1():
    a = _bleio.adapter
    multitest.next()
    conn = a.connect(_bleio.Address(PERIPH, PERIPH_TYPE), timeout=5)
    services = conn.discover_remote_services((SVC,))
    print("services", [s.uuid for s in services], services[0].remote)
    chars = {c.uuid: c for c in services[0].characteristics}
    rw, fixed, note, pkt = chars[RW], chars[FIXED], chars[NOTE], chars[PKT]
    print("props", rw.properties == C.READ | C.WRITE, note.properties == C.NOTIFY, pkt.properties == C.NOTIFY | C.WRITE_NO_RESPONSE)
    print("descriptors", sorted(d.uuid.uuid16 for d in rw.descriptors))
    for d in rw.descriptors:
        if d.uuid == DESC:
            print("desc value", d.value)
        if d.uuid == _bleio.UUID(0x2901):
            print("user description", d.value)
    print("rw read", rw.value)
    rw.value = b"world"
    print("rw read back", rw.value)
    try:
        rw.value = b"123456789"
    except _bleio.BluetoothError as e:
        print("BluetoothError", e)
    try:
        fixed.value = b"12"
    except _bleio.BluetoothError as e:
        print("BluetoothError", e)
    fixed.value = b"abcd"
    multitest.broadcast("written")
    try:
        rw.set_cccd(notify=True)
    except _bleio.BluetoothError as e:
        print("BluetoothError", e)
    cbuf = _bleio.CharacteristicBuffer(note, timeout=2, buffer_size=64)
    note.set_cccd(notify=True)
    pbuf = _bleio.PacketBuffer(pkt, buffer_size=4)
    pkt.set_cccd(notify=True)
    multitest.broadcast("subscribed")
    print("lines", cbuf.readline(), cbuf.readline(), cbuf.read(7))
    print("in_waiting", cbuf.in_waiting, "read on empty", cbuf.read(1))
    print("incoming", pbuf.incoming_packet_length, "outgoing", pbuf.outgoing_packet_length)
    pbuf.write(b"packet-1")
    pbuf.write(b"2", header=b"packet-")
    try:
        pbuf.write(b"x" * 30)
    except ValueError as e:
        print("ValueError", e)
    multitest.broadcast("packets sent")
    buf = bytearray(20)
    wait_until(lambda: pbuf._packets, 5)
    n = pbuf.readinto(buf)
    print("client packet", bytes(buf[:n]))
    print("empty readinto", pbuf.readinto(buf))
    conn.connection_interval = 15
    print("interval", conn.connection_interval)
    multitest.broadcast("done")
    conn.disconnect()
    try:
        rw.value
    except _bleio.ConnectionError:
        print("ConnectionError after disconnect")
