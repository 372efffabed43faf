# _bleio PacketBuffer on the server talks to one client, as CircuitPython: the last one that
# subscribed. Packets from the other client are ignored and outgoing packets go to the last
# subscriber only.
# multitest-skip: micropython-btstack@0 -- BTstack v1.28 takes one link as peripheral: it does not advertise while a central is connected, so the second central cannot connect (docs/firmware.md; shown by tests/firmware/multi/btstack_one_peripheral_link.py)
import time
import _bleio

SVC = _bleio.UUID(0xFB00)
PKT = _bleio.UUID(0xFB01)
C = _bleio.Characteristic


def client(name, start_msg, done_msg):
    a = _bleio.adapter
    multitest.wait(start_msg)
    conn = a.connect(_bleio.Address(PERIPH, PERIPH_TYPE), timeout=5)
    (svc,) = conn.discover_remote_services([SVC])
    pkt = svc.characteristics[0]
    buf = _bleio.PacketBuffer(pkt, buffer_size=4)
    pkt.set_cccd(notify=True)
    return conn, buf


# Server.
def instance0():
    a = _bleio.adapter
    svc = _bleio.Service(SVC)
    pkt = C.add_to_service(svc, PKT, properties=C.NOTIFY | C.WRITE_NO_RESPONSE, max_length=20)
    buf = _bleio.PacketBuffer(pkt, buffer_size=4)
    multitest.globals(PERIPH=a.address.address_bytes, PERIPH_TYPE=a.address.type)
    a.start_advertising(b"\x02\x01\x06", interval=0.02)
    multitest.next()
    multitest.broadcast("adv 1")
    multitest.wait("A ready")
    a.start_advertising(b"\x02\x01\x06", interval=0.02)
    multitest.broadcast("adv 2")
    multitest.wait("A wrote")
    time.sleep(0.5)
    got = []
    out = bytearray(20)
    while True:
        n = buf.readinto(out)
        if not n:
            break
        got.append(bytes(out[:n]))
    print("server got", got, "connections", len(a.connections))
    buf.write(b"to last")
    multitest.broadcast("sent")
    multitest.wait("B done")


# First client: subscribed first, so it is not heard once the second one subscribes.
def instance1():
    multitest.next()
    conn, buf = client("A", "adv 1", None)
    multitest.broadcast("A ready")
    multitest.wait("B wrote")
    buf.write(b"from A")
    multitest.broadcast("A wrote")
    multitest.wait("B done")  # the server's packet has reached B by now
    print("A got", buf.readinto(bytearray(20)))
    conn.disconnect()


# Second client: subscribed last, so the server talks to it.
def instance2():
    multitest.next()
    conn, buf = client("B", "adv 2", None)
    buf.write(b"from B")
    time.sleep(0.3)
    multitest.broadcast("B wrote")
    multitest.wait("sent")
    out = bytearray(20)
    t0 = time.time()
    n = 0
    while not n and time.time() - t0 < 5:
        n = buf.readinto(out)
        time.sleep(0.01)
    print("B got", bytes(out[:n]))
    multitest.broadcast("B done")
    conn.disconnect()
