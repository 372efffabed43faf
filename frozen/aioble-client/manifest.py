# aioble-client: GATT client: discovery, read/write, notified/indicated, subscribe.
metadata(description="aioble GATT client: discovery, read/write, notified/indicated, subscribe", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("client.py",), base_path="../../src")
