# The one place that knows whether aioble runs on MicroPython or on CPython.
# Everything else imports these names from here.

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


try:
    import asyncio
except ImportError:  # MicroPython before v1.19 only has uasyncio
    import uasyncio as asyncio

# How an irq handler wakes a task: MicroPython has it; on CPython `bleboard run`
# installs it into asyncio, and a plain CPython program gets it from bleboard.
ThreadSafeFlag = getattr(asyncio, "ThreadSafeFlag", None)
if ThreadSafeFlag is None:
    from bleboard.runtime.threadsafeflag import ThreadSafeFlag

if hasattr(asyncio, "timeout"):  # CPython 3.11+: a deadline without an extra task

    async def wait_for_ms(aw, timeout_ms):
        async with asyncio.timeout(timeout_ms / 1000):
            return await aw

else:  # MicroPython (and older CPython inside `bleboard run`)
    wait_for_ms = getattr(asyncio, "wait_for_ms", None)
    if wait_for_ms is None:

        def wait_for_ms(aw, timeout_ms):
            return asyncio.wait_for(aw, timeout_ms / 1000)


try:
    from sys import print_exception
except ImportError:

    def print_exception(e):
        import traceback

        traceback.print_exception(e)
