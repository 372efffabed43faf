# aioble-central: Central and Observer roles: scan, ScanResult, Device.connect.
metadata(description="aioble Central and Observer roles: scan, ScanResult, Device.connect", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("central.py",), base_path="../../src")
