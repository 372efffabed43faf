# aioble-l2cap: L2CAP connection-oriented channels.
metadata(description="aioble L2CAP connection-oriented channels", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("l2cap.py",), base_path="../../src")
