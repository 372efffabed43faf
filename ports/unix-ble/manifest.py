# What the bleboard unix firmware freezes: asyncio (aioble needs it) and
# bleboard's aioble and _bleio, exactly as a microcontroller board would.
# MicroPython's own unix manifest is not included: it pulls micropython-lib
# (mip, ssl), which a release snapshot does not carry.
include("../../frozen/manifest.py")
