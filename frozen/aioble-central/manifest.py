# aioble-central: Central and Observer roles: scan, ScanResult, Device.connect.
metadata(description="aioble Central and Observer roles: scan, ScanResult, Device.connect", version="0.1.0")
include("../aioble-core")
package("aioble", files=("central.py",), base_path="../../src")
