"""Give CPython's `time` and `asyncio` the MicroPython extensions programs use.

MicroPython programs call `time.sleep_ms`, `time.ticks_diff`,
`asyncio.sleep_ms`, `asyncio.ThreadSafeFlag` ... on the standard module
names, so we add those attributes to the real modules (nothing is replaced).
`install()` is idempotent and cheap: `asyncio` is patched when it is first
imported, so a program that never uses it does not pay for importing it.

Plain Python programs (aioble on CPython) may call `install()` too, or import
`ThreadSafeFlag` from here.
"""

import importlib.abc
import sys
import threading
import time

from bleboard.runtime import ticks
from bleboard.runtime.threadsafeflag import ThreadSafeFlag

__all__ = ["install", "ThreadSafeFlag"]

_lock = threading.Lock()
_installed = False


def install():
    """Add the MicroPython extensions to `time` and (now or on import) `asyncio`."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        for name in ticks.NAMES:
            setattr(time, name, getattr(ticks, name))
        if "asyncio" in sys.modules:
            _patch_asyncio(sys.modules["asyncio"])
        else:
            sys.meta_path.insert(0, _AsyncioHook())


# ---- asyncio ------------------------------------------------------------


async def sleep_ms(ms):
    """`asyncio.sleep_ms(ms)`: sleep for `ms` milliseconds."""
    import asyncio

    ms = ticks._int_arg(ms, "ms")
    await asyncio.sleep(max(ms, 0) / 1000)


async def wait_for_ms(aw, timeout_ms):
    """`asyncio.wait_for_ms(aw, timeout_ms)`: `wait_for` with a timeout in ms (None: no limit)."""
    import asyncio

    timeout = None if timeout_ms is None else ticks._int_arg(timeout_ms, "timeout_ms") / 1000
    return await asyncio.wait_for(aw, timeout)


def _patch_asyncio(module):
    module.ThreadSafeFlag = ThreadSafeFlag
    module.sleep_ms = sleep_ms
    module.wait_for_ms = wait_for_ms


class _AsyncioHook(importlib.abc.MetaPathFinder):
    """Patches `asyncio` right after its first import, then removes itself."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "asyncio":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _patch_asyncio(module)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _AsyncioHook)]
