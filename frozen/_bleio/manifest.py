# _bleio: CircuitPython's BLE API over MicroPython's `bluetooth` (the same files as on CPython).
# Features the firmware's `bluetooth` lacks raise NotImplementedError naming the feature.
metadata(description="_bleio: CircuitPython's low-level BLE API over bluetooth", version="0.1.0")
package("_bleio", base_path="../../src")
