# aioble-core: what every aioble user needs (the BLE object, irq dispatch, waiting,
# errors, Device and DeviceConnection). The role modules are separate packages.
metadata(description="aioble core: BLE object, irq dispatch, Device, DeviceConnection", version="0.1.0")
package("aioble", files=("__init__.py", "compat.py", "core.py", "device.py"), base_path="../../src")
