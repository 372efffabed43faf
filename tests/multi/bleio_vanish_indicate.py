# _bleio: indications into a CharacteristicBuffer, reads that block until answered, and a peer
# that vanishes (its process exits) while the central keeps reading: the read raises
# ConnectionError (or BluetoothError) well within the GATT timeout, never hangs.
# multitest-skip: micropython@0 -- vanishing needs os._exit; MicroPython can only exit through a clean BLE shutdown
import os
import time
import _bleio

SVC = _bleio.UUID(0xFE00)
IND = _bleio.UUID(0xFE01)
VAL = _bleio.UUID(0xFE02)
C = _bleio.Characteristic


# Peripheral that disappears.
def instance0():
    a = _bleio.adapter
    svc = _bleio.Service(SVC)
    ind = C.add_to_service(svc, IND, properties=C.INDICATE | C.READ, max_length=10)
    C.add_to_service(svc, VAL, properties=C.READ, initial_value=b"value")
    multitest.globals(PERIPH=a.address.address_bytes, PERIPH_TYPE=a.address.type)
    a.start_advertising(b"\x02\x01\x06", interval=0.02)
    multitest.next()
    multitest.wait("subscribed")
    for i in range(3):
        ind.value = b"ind %d;" % i
    multitest.wait("reading")
    time.sleep(0.2)
    print("vanishing")
    multitest.flush()
    os._exit(0)


# Central.
def instance1():
    a = _bleio.adapter
    multitest.next()
    conn = a.connect(_bleio.Address(PERIPH, PERIPH_TYPE), timeout=5)
    (svc,) = conn.discover_remote_services([SVC])
    chars = {c.uuid: c for c in svc.characteristics}
    buf = _bleio.CharacteristicBuffer(chars[IND], timeout=3)
    chars[IND].set_cccd(indicate=True)
    multitest.broadcast("subscribed")
    print("indications", buf.read(18))
    multitest.broadcast("reading")
    t0 = time.time()
    reads = 0
    try:
        while time.time() - t0 < 30:
            chars[VAL].value
            reads += 1
        print("still reading after 30 s")
    except (_bleio.ConnectionError, _bleio.BluetoothError) as exc:
        print("raised", type(exc).__name__, reads > 0, time.time() - t0 < 15)
    print("connected", conn.connected, a.connected)
