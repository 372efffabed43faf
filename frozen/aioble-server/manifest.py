# aioble-server: GATT server: Service, Characteristic, BufferedCharacteristic, Descriptor.
metadata(description="aioble GATT server: Service, Characteristic, BufferedCharacteristic, Descriptor", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("server.py",), base_path="../../src")
