# aioble-security: Pairing and bonding, JSON-backed secrets store.
metadata(description="aioble Pairing and bonding, JSON-backed secrets store", version="0.1.0")
include("../aioble-core")
package("aioble", files=("security.py",), base_path="../../src")
