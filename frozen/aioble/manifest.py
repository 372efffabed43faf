# aioble: the meta-package, every sub-package. A board with little flash can
# require only the ones it needs (each requires aioble-core itself).
# require(..., library="bleboard") rather than include(): each sub-package
# manifest declares its own metadata(), which MicroPython's manifest tool only
# accepts in a package frame of its own, and require() opens one.
metadata(description="aioble: asyncio BLE (all roles)", version="0.1.0")
add_library("bleboard", "..")  # frozen/: our manifests, found by name
for name in ("core", "central", "peripheral", "server", "client", "l2cap", "security"):
    require("aioble-" + name, library="bleboard")
