"""The virtual board runtime: what makes CPython run a MicroPython program like a board.

  run_cmd      `bleboard run FILE | -c CODE | -` (python-like launcher for runners)
  session      how a board process ends (never kept alive) and resets (re-exec)
  precedence   our micropython/machine/bluetooth/aioble/_bleio win over installed look-alikes
  aliases      `ustruct`, `utime` ... as the standard modules
  compat       install() adds MicroPython's extensions to time, asyncio, sys, gc
  ticks        sleep_ms/us and wrapping ticks arithmetic
  threadsafeflag  asyncio.ThreadSafeFlag for CPython
  stdio        console buffering; writes that irq handlers cannot interrupt
  scheduler    (lead) runs irq handlers and scheduled functions on the main thread
  mpy/         the board-only modules `micropython` and `machine`
"""
