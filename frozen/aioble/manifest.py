# aioble: the meta-package, every sub-package. A board with little flash can
# include only the ones it needs (each includes aioble-core itself).
metadata(description="aioble: asyncio BLE (all roles)", version="0.1.0")
include(
    (
        "../aioble-core",
        "../aioble-central",
        "../aioble-peripheral",
        "../aioble-server",
        "../aioble-client",
        "../aioble-l2cap",
        "../aioble-security",
    )
)
