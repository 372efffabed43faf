"""Give CPython's `time` and `asyncio` the MicroPython extensions programs use.

MicroPython programs call `time.sleep_ms`, `time.ticks_diff`,
`asyncio.sleep_ms`, `asyncio.ThreadSafeFlag`, `sys.print_exception`,
`gc.mem_free` ... on the standard module names, so we add those attributes to
the real modules (nothing that exists is replaced).
`install()` is idempotent and cheap: `asyncio` is patched when it is first
imported, so a program that never uses it does not pay for importing it.

Plain Python programs (aioble on CPython) may call `install()` too, or import
`ThreadSafeFlag` from here.
"""

import gc
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
        _add(sys, "print_exception", print_exception)
        _add(gc, "mem_free", mem_free)
        _add(gc, "mem_alloc", mem_alloc)
        _add(gc, "threshold", threshold)
        if "asyncio" in sys.modules:
            _patch_asyncio(sys.modules["asyncio"])
        else:
            sys.meta_path.insert(0, _AsyncioHook())


def _add(module, name, value):
    if not hasattr(module, name):
        setattr(module, name, value)


# ---- sys and gc ------------------------------------------------------------


def print_exception(exc, file=None):
    """`sys.print_exception(exc, file=sys.stdout)`: the traceback, to stdout by default."""
    import traceback

    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stdout if file is None else file)


def _meminfo(field):
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def mem_free():
    """Bytes the host could still give us (MemAvailable): a board's heap is never this big."""
    return _meminfo("MemAvailable")


def mem_alloc():
    """Bytes this process has in use (resident set)."""
    try:
        import os

        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_threshold = -1


def threshold(amount=None):
    """`gc.threshold([amount])`: recorded; CPython's collector has its own policy."""
    global _threshold
    if amount is None:
        return _threshold
    _threshold = ticks._int_arg(amount, "amount")
    return None


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
