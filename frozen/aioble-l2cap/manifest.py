# aioble-l2cap: L2CAP connection-oriented channels.
metadata(description="aioble L2CAP connection-oriented channels", version="0.1.0")
include("../aioble-core")
package("aioble", files=("l2cap.py",), base_path="../../src")
