# bleboard's on-device libraries, for MicroPython's firmware build and for `bleboard freeze`.
#
#   make -C ports/esp32 BOARD=ESP32_GENERIC_S3 FROZEN_MANIFEST=/path/to/bleboard/frozen/manifest.py
#
# FROZEN_MANIFEST replaces the board's own manifest, so first take the port's
# default one (asyncio, which aioble needs, and the port's modules). The nrf
# port keeps it in $(PORT_DIR)/modules/manifest.py: change the line there.
include("$(PORT_DIR)/boards/manifest.py")

metadata(description="bleboard: aioble and _bleio frozen for MicroPython boards", version="0.1.0")

# One manifest per library, beside this file, so a board with little flash can
# include only the parts it needs (see frozen/README.md).
include("aioble")  # frozen/aioble/manifest.py: the aioble meta-package (every sub-package)
include("_bleio")  # frozen/_bleio/manifest.py: CircuitPython's _bleio API over `bluetooth`
