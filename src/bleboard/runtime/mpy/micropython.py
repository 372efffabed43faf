"""MicroPython's `micropython` module for programs run by `bleboard run`.

`schedule` queues on the same main-thread scheduler as `bluetooth` irq
handlers, so scheduled functions run on the main thread, one at a time, in
order, while the program sleeps, waits or computes -- as on a board.  The
memory-introspection functions answer with this process's numbers.
"""

import collections
import sys
import threading

from bleboard.runtime import scheduler as _scheduler

SCHEDULE_DEPTH = 8  # MICROPY_SCHEDULER_DEPTH of the common ports

# One token per schedule() not yet run.  A deque, because its append/pop are atomic:
# the wake-up signal may run _run_scheduled on the main thread in the middle of schedule().
_tokens = collections.deque()
_heap_lock_depth = 0
_opt_level = 0
_kbd_intr = 3


def const(expr):
    """`const(x)` is `x` (on a board it also makes the name a compile-time constant)."""
    return expr


def schedule(func, arg):
    """Run `func(arg)` soon on the main thread; RuntimeError when the queue is full."""
    if len(_tokens) >= SCHEDULE_DEPTH:
        raise RuntimeError("schedule queue full")
    _tokens.append(None)
    _scheduler.default().call(_run_scheduled, func, arg)


def _run_scheduled(func, arg):
    _tokens.pop()
    try:
        func(arg)
    except Exception as exc:  # printed, like mp_call_function_1_protected
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next, file=sys.stderr)


# ---- memory and interpreter introspection --------------------------------


def stack_use():
    """Approximate stack in use, in bytes (Python frames times a typical frame size)."""
    depth = 0
    frame = sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth * 256


def mem_info(verbose=None):
    """Print stack and heap usage (the heap is this process's resident memory)."""
    from bleboard.runtime.compat import mem_alloc

    used = mem_alloc()
    limit = sys.getrecursionlimit() * 256
    print("stack: %d out of %d" % (stack_use(), limit))
    print("GC: total: %d, used: %d, free: %d" % (used, used, 0))
    print(" No. of 1-blocks: %d, 2-blocks: 0, max blk sz: 0, max free sz: 0" % sys.getallocatedblocks())


def qstr_info(verbose=None):
    """Print interned-string statistics (CPython does not expose them: zeros)."""
    print("qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0")


def heap_lock():
    """Counted like on a board; CPython keeps allocating."""
    global _heap_lock_depth
    _heap_lock_depth += 1
    return _heap_lock_depth - 1


def heap_unlock():
    global _heap_lock_depth
    if _heap_lock_depth:
        _heap_lock_depth -= 1
    return _heap_lock_depth


def heap_locked():
    return _heap_lock_depth


def alloc_emergency_exception_buf(size):
    """No-op: CPython can always allocate the exception."""
    if not isinstance(size, int):
        raise TypeError("can't convert %s to int" % type(size).__name__)


def opt_level(level=None):
    """Get or set the optimisation level (recorded only)."""
    global _opt_level
    if level is None:
        return _opt_level
    if not isinstance(level, int):
        raise TypeError("can't convert %s to int" % type(level).__name__)
    _opt_level = level
    return None


def kbd_intr(chr):
    """kbd_intr(-1) lets Ctrl-C through as data: SIGINT is ignored; any other value restores it."""
    global _kbd_intr
    if not isinstance(chr, int):
        raise TypeError("can't convert %s to int" % type(chr).__name__)
    _kbd_intr = chr
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN if chr < 0 else signal.default_int_handler)


# ---- code emitters: plain bytecode here ----------------------------------


def _identity(func):
    return func


native = viper = asm_thumb = asm_xtensa = asm_rv32 = _identity
