"""A wake-up signal that is lost (it landed between the interpreter's last check for signals
and the start of a blocking wait) must not stall delivery until that wait ends by itself."""

import signal
import threading
import time

from bleboard.runtime.scheduler import WAKE_SIGNAL, Scheduler


def test_a_lost_wake_up_is_sent_again():
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
        threading.Timer(0.05, sched.call, (done.set,)).start()
        t0 = time.monotonic()
        done.wait(3.0)
        elapsed = time.monotonic() - t0
        assert lost, "the first signal was not sent"
        assert done.is_set() and elapsed < 1.0, "delivery waited %.2f s for the blocking wait to end" % elapsed
    finally:
        signal.signal(WAKE_SIGNAL, deliver)
        sched.close()
