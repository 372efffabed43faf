"""A wake-up signal that is lost (it landed between the interpreter's last check for signals
and the start of a blocking wait) must not stall delivery until that wait ends by itself."""

import signal
import threading
import time

import pytest

from bleboard.runtime.scheduler import WAKE_SIGNAL, Scheduler


def _from_timer_thread(sched, fn):
    threading.Timer(0.05, sched.call, (fn,)).start()


def _from_event_loop_thread(sched, fn):
    """The radio thread's case: call() from a thread running an asyncio loop."""
    import asyncio

    def run():
        async def produce():
            await asyncio.sleep(0.05)
            sched.call(fn)
            await asyncio.sleep(1.5)  # keep the loop (and its re-check timers) alive

        asyncio.run(produce())

    threading.Thread(target=run, daemon=True).start()


@pytest.mark.parametrize("producer", [_from_timer_thread, _from_event_loop_thread])
def test_a_lost_wake_up_is_sent_again(producer):
    sched = Scheduler(mode="main")
    deliver = signal.getsignal(WAKE_SIGNAL)
    lost = []

    def lossy(signum, frame):
        if not lost:  # the first wake-up goes nowhere, as in the race
            lost.append(time.monotonic())
            return
        deliver(signum, frame)

    signal.signal(WAKE_SIGNAL, lossy)
    try:
        done = threading.Event()
        producer(sched, done.set)
        t0 = time.monotonic()
        done.wait(3.0)
        elapsed = time.monotonic() - t0
        assert lost, "the first signal was not sent"
        assert done.is_set() and elapsed < 1.0, "delivery waited %.2f s for the blocking wait to end" % elapsed
    finally:
        signal.signal(WAKE_SIGNAL, deliver)
        sched.close()
