"""`uasyncio`: the old MicroPython name of `asyncio` (same module object)."""

import sys

from bleboard.runtime import compat

compat.install()

import asyncio  # noqa: E402 - after install() so it carries the extensions

sys.modules[__name__] = asyncio
