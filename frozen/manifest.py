# bleboard's on-device libraries, for MicroPython's firmware build and for `bleboard freeze`.
#
#   make -C ports/esp32 BOARD=ESP32_GENERIC_S3 FROZEN_MANIFEST=/path/to/bleboard/frozen/manifest.py
#
# FROZEN_MANIFEST replaces the board's own manifest. This one brings what aioble
# needs on every port (asyncio) and our libraries; it does not pull in the port's
# own frozen modules, whose manifest lives in a different place on each port
# (and pulls micropython-lib on unix). To keep them, freeze a two-line manifest:
#
#   include("$(PORT_DIR)/boards/manifest.py")   # the port's default (esp32, rp2, ...)
#   include("/path/to/bleboard/frozen/manifest.py")
metadata(description="bleboard: aioble and _bleio frozen for MicroPython boards", version="0.1.0")

include("$(MPY_DIR)/extmod/asyncio")

# One manifest per library, beside this file, so a board with little flash can
# require only the parts it needs (see frozen/README.md). require() gives each
# its own metadata frame; library="bleboard" keeps micropython-lib's aioble out.
add_library("bleboard", ".")
require("aioble", library="bleboard")  # frozen/aioble/manifest.py: every aioble sub-package
require("_bleio", library="bleboard")  # frozen/_bleio/manifest.py: CircuitPython's _bleio API over `bluetooth`
