# aioble-server: GATT server: Service, Characteristic, BufferedCharacteristic, Descriptor.
metadata(description="aioble GATT server: Service, Characteristic, BufferedCharacteristic, Descriptor", version="0.1.0")
include("../aioble-core")
package("aioble", files=("server.py",), base_path="../../src")
