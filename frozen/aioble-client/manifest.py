# aioble-client: GATT client: discovery, read/write, notified/indicated, subscribe.
metadata(description="aioble GATT client: discovery, read/write, notified/indicated, subscribe", version="0.1.0")
include("../aioble-core")
package("aioble", files=("client.py",), base_path="../../src")
