"""Plain _bleio: list the devices advertising nearby for 5 seconds, with their names."""

import _bleio


def name_of(data):
    i = 0
    while i + 1 < len(data):
        n = data[i]
        if n == 0:
            break
        if data[i + 1] in (0x08, 0x09):
            return bytes(data[i + 2 : i + 1 + n]).decode("utf-8", "replace")
        i += 1 + n
    return None


seen = {}
for entry in _bleio.adapter.start_scan(timeout=5, minimum_rssi=-100):
    name = name_of(entry.advertisement_bytes)
    if entry.address not in seen or name:
        seen[entry.address] = (name, entry.rssi, entry.connectable)
for address, (name, rssi, connectable) in seen.items():
    print(address, rssi, "connectable" if connectable else "", name or "")
