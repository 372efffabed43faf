# aioble-peripheral: Peripheral and Broadcaster roles: advertise, advertising payloads.
metadata(description="aioble Peripheral and Broadcaster roles: advertise, advertising payloads", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("peripheral.py",), base_path="../../src")
