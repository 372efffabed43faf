# A _bleio board whose bonds outlive the process (BLEBOARD_BLEIO_BONDS names its store).
# usage: bleboard run bleio_bond_board.py peripheral|central [PEER_ADDR_HEX]
import sys
import time

import _bleio

role = sys.argv[1]
a = _bleio.adapter


def wait_until(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


if role == "peripheral":
    svc = _bleio.Service(_bleio.UUID(0xFD00))
    _bleio.Characteristic.add_to_service(svc, _bleio.UUID(0xFD01), properties=_bleio.Characteristic.READ,
                                         read_perm=_bleio.Attribute.ENCRYPT_NO_MITM, initial_value=b"secret")
    print("ADDR", bytes(reversed(a.address.address_bytes)).hex(), flush=True)
    a.start_advertising(b"\x02\x01\x06", interval=0.02)
    wait_until(lambda: a.connected)
    conn = a.connections[0]
    print("paired", wait_until(lambda: conn.paired))
    wait_until(lambda: not a.connected)
else:
    peer = bytes(reversed(bytes.fromhex(sys.argv[2])))
    conn = a.connect(_bleio.Address(peer, _bleio.Address.PUBLIC), timeout=5)
    (svc,) = conn.discover_remote_services([_bleio.UUID(0xFD00)])
    conn.pair(bond=True)
    print("paired", conn.paired)
    print("read", bytes(svc.characteristics[0].value))
    conn.disconnect()
    wait_until(lambda: not conn.connected)
