# aioble-security: Pairing and bonding, JSON-backed secrets store.
metadata(description="aioble Pairing and bonding, JSON-backed secrets store", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
require("aioble-core", library="bleboard")
package("aioble", files=("security.py",), base_path="../../src")
