# aioble-peripheral: Peripheral and Broadcaster roles: advertise, advertising payloads.
metadata(description="aioble Peripheral and Broadcaster roles: advertise, advertising payloads", version="0.1.0")
include("../aioble-core")
package("aioble", files=("peripheral.py",), base_path="../../src")
