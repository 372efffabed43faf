"""MicroPython's time extensions: wrap-around arithmetic and sleeps; compat.install()."""

import random
import subprocess
import sys
import time

import pytest

from bleboard.runtime import compat, ticks
from bleboard.runtime.ticks import TICKS_HALFPERIOD as HALF
from bleboard.runtime.ticks import TICKS_MAX as MAX
from bleboard.runtime.ticks import TICKS_PERIOD as PERIOD
from boardrun import clean_env, run_board


def test_period_is_the_boards():
    assert PERIOD == 2**30 and MAX == PERIOD - 1 and HALF == 2**29


@pytest.mark.parametrize(
    "a, b, diff",
    [
        (5, 3, 2),
        (3, 5, -2),
        (0, MAX, 1),  # just wrapped
        (MAX, 0, -1),
        (2, MAX - 2, 5),
        (HALF - 1, 0, HALF - 1),  # the largest positive distance
        (HALF, 0, -HALF),  # one more reads as the most negative
        (0, HALF, -HALF),
    ],
)
def test_ticks_diff(a, b, diff):
    assert ticks.ticks_diff(a, b) == diff


@pytest.mark.parametrize(
    "start, delta, result", [(MAX, 1, 0), (0, -1, MAX), (10, HALF - 1, HALF + 9), (5, -(HALF - 1), HALF + 6)]
)
def test_ticks_add_wraps(start, delta, result):
    assert ticks.ticks_add(start, delta) == result


@pytest.mark.parametrize("delta", [HALF, -HALF, PERIOD, -PERIOD - 1])
def test_ticks_add_overflow(delta):
    with pytest.raises(OverflowError, match="ticks interval overflow"):
        ticks.ticks_add(0, delta)


def test_add_then_diff_round_trips_across_the_wrap():
    rng = random.Random(1234)
    for _ in range(2000):
        start = rng.randrange(PERIOD)
        delta = rng.randrange(-HALF + 1, HALF)
        end = ticks.ticks_add(start, delta)
        assert 0 <= end <= MAX
        assert ticks.ticks_diff(end, start) == delta
    near_wrap = MAX - 3
    assert ticks.ticks_diff(ticks.ticks_add(near_wrap, 10), near_wrap) == 10


@pytest.mark.parametrize("fn", [ticks.ticks_diff, ticks.ticks_add])
def test_ticks_args_must_be_int(fn):
    with pytest.raises(TypeError):
        fn(1.5, 1)


@pytest.mark.parametrize("fn", [ticks.ticks_ms, ticks.ticks_us, ticks.ticks_cpu])
def test_counters_stay_in_range_and_advance(fn):
    first = fn()
    ticks.sleep_ms(3)
    second = fn()
    assert 0 <= first <= MAX and 0 <= second <= MAX
    assert ticks.ticks_diff(second, first) > 0


def test_sleeps_keep_their_length_and_refuse_floats():
    start = time.monotonic()
    ticks.sleep_ms(20)
    ticks.sleep_us(5000)
    assert time.monotonic() - start >= 0.025
    ticks.sleep_ms(-5)  # negative: no sleep, no error (as MicroPython)
    ticks.sleep_us(-5)
    with pytest.raises(TypeError):
        ticks.sleep_ms(1.5)
    with pytest.raises(TypeError):
        ticks.sleep_us("1")


def test_install_is_idempotent_and_patches_time_and_asyncio():
    import asyncio

    compat.install()
    compat.install()
    for name in ticks.NAMES:
        assert getattr(time, name) is getattr(ticks, name)
    assert asyncio.ThreadSafeFlag is compat.ThreadSafeFlag
    assert asyncio.sleep_ms is compat.sleep_ms and asyncio.wait_for_ms is compat.wait_for_ms
    assert sum(isinstance(f, compat._AsyncioHook) for f in sys.meta_path) == 0


def test_install_patches_asyncio_lazily():
    code = (
        "import sys\n"
        "from bleboard.runtime import compat\n"
        "compat.install(); compat.install()\n"
        "print('asyncio' in sys.modules, sum(type(f).__name__ == '_AsyncioHook' for f in sys.meta_path))\n"
        "import asyncio\n"
        "print(asyncio.ThreadSafeFlag.__name__, asyncio.sleep_ms.__name__, type(asyncio.__loader__).__name__,\n"
        "      sum(type(f).__name__ == '_AsyncioHook' for f in sys.meta_path))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env())
    assert r.stdout.splitlines() == ["False 1", "ThreadSafeFlag sleep_ms SourceFileLoader 0"], r.stderr


def test_board_program_sees_the_extensions():
    code = (
        "import time, asyncio, utime, uasyncio\n"
        "t0 = time.ticks_ms()\n"
        "time.sleep_ms(5)\n"
        "print(time.ticks_diff(time.ticks_ms(), t0) >= 5, time.ticks_add(time.ticks_ms(), 0) <= 2**30 - 1)\n"
        "async def main():\n"
        "    await asyncio.sleep_ms(1)\n"
        "    return await asyncio.wait_for_ms(asyncio.sleep_ms(1), 1000)\n"
        "print(asyncio.run(main()), utime is time, uasyncio is asyncio, hasattr(asyncio, 'ThreadSafeFlag'))\n"
    )
    r = run_board("-c", code)
    assert r.stdout == "True True\nNone True True True\n", r.stderr


def test_asyncio_sleep_ms_and_wait_for_ms():
    import asyncio

    async def main():
        await compat.sleep_ms(2)
        with pytest.raises(asyncio.TimeoutError):
            await compat.wait_for_ms(asyncio.sleep(10), 10)
        assert await compat.wait_for_ms(asyncio.sleep(0, "r"), None) == "r"
        with pytest.raises(TypeError):
            await compat.sleep_ms(0.5)

    asyncio.run(main())


def test_sys_and_gc_extensions_on_board():
    code = (
        "import sys, gc, io\n"
        "try:\n"
        "    1/0\n"
        "except Exception as e:\n"
        "    sys.print_exception(e)\n"
        "    buf = io.StringIO()\n"
        "    sys.print_exception(e, buf)\n"
        "    print(buf.getvalue().splitlines()[-1])\n"
        "print(gc.mem_free() > 0, gc.mem_alloc() > 0, gc.threshold(), gc.threshold(4096), gc.threshold())\n"
    )
    r = run_board("-c", code)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Traceback (most recent call last):"  # to stdout, as MicroPython
    assert lines[-2:] == ["ZeroDivisionError: division by zero", "True True -1 None 4096"]


def test_u_module_aliases_on_board(tmp_path):
    (tmp_path / "ujson.py").write_text("MINE = True\n")
    code = (
        "import ustruct, struct, utime, time, uasyncio, asyncio, umachine, machine, uos, os, ujson\n"
        "print(ustruct is struct, utime is time, uasyncio is asyncio, umachine is machine, uos is os)\n"
        "print(hasattr(utime, 'ticks_ms'), hasattr(uasyncio, 'ThreadSafeFlag'), getattr(ujson, 'MINE', False))\n"
    )
    r = run_board("-c", code, cwd=tmp_path)
    assert r.stdout == "True True True True True\nTrue True True\n", r.stderr
