"""The irq -> main thread -> asyncio wake-up path under load: no connection is ever missed.

aioble.advertise() waits with a deadline (asyncio.timeout) for _IRQ_CENTRAL_CONNECT, which
reaches it through a signal to the main thread, the scheduler's drain and a ThreadSafeFlag.
A lost step shows as advertise() running into its timeout although the central connected.
Every other round the central hangs up from its connect handler and stalls the main thread
meanwhile, so the peripheral handles connect and disconnect before its task runs again (what
a starved main thread does under load): advertise() must still return that connection.
The rounds run in a subprocess while another process keeps one core busy (so the radio
thread, the main thread and the burner contend for the CPU, as in a loaded CI run).

BLEBOARD_STRESS_ROUNDS sets the number of rounds (default 200; 2000 takes about a minute).
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading

import pytest

from bleboard.runtime.scheduler import WAKE_SIGNAL, Scheduler
from bleboard.runtime.threadsafeflag import ThreadSafeFlag
from boardrun import clean_env, script

ROUNDS = int(os.environ.get("BLEBOARD_STRESS_ROUNDS") or 200)


def _burner():
    """A process that keeps one core busy until killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_advertise_sees_every_connect_under_a_busy_core():
    burner = _burner()
    try:
        proc = subprocess.run(
            [sys.executable, script("advertise_stress.py"), str(ROUNDS)],
            capture_output=True, text=True, env=clean_env(BLEBOARD_DEBUG="1"),
            timeout=60 + ROUNDS * 0.5,
        )
    finally:
        burner.kill()
        burner.wait()
    out = proc.stdout
    assert "rounds %d misses 0" % ROUNDS in out, out[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]


def _radio_like_producer(sched, fn, delay):
    """call() from a thread running an asyncio loop, as the radio thread does."""

    def run():
        async def produce():
            await asyncio.sleep(delay)
            sched.call(fn)
            await asyncio.sleep(1.0)  # the loop (and its re-check timers) stays alive

        asyncio.run(produce())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("lose", [0, 1, 3])
def test_deadline_wait_is_woken_when_wake_up_signals_are_lost(lose):
    """A task awaiting a ThreadSafeFlag under asyncio.timeout, as aioble waits: the irq's
    first `lose` wake-up signals go nowhere (the signal-before-epoll race); the re-check
    must still wake it long before the deadline, never via the deadline."""
    sched = Scheduler(mode="main")
    deliver = signal.getsignal(WAKE_SIGNAL)
    dropped = []

    def lossy(signum, frame):
        if len(dropped) < lose:
            dropped.append(signum)
            return
        deliver(signum, frame)

    signal.signal(WAKE_SIGNAL, lossy)
    flag = ThreadSafeFlag()
    state = []

    def irq():  # runs on the main thread, from the signal handler
        state.append("connected")
        flag.set()

    async def main():
        _radio_like_producer(sched, irq, 0.05)
        async with asyncio.timeout(30):
            while not state:
                await flag.wait()
        return asyncio.get_running_loop().time()

    try:
        asyncio.run(main())
        assert state == ["connected"]
        assert len(dropped) == lose
    finally:
        signal.signal(WAKE_SIGNAL, deliver)
        sched.close()
