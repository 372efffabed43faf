"""The waiting primitive: wakes on notify from another thread or from a signal handler on the
waiting thread itself, never loses a wake-up, honours timeouts."""

import os
import signal
import threading
import time

from _bleio import _wait


def test_timeout_returns_false():
    assert _wait.until(lambda: False, 0.05) is False


def test_true_at_once():
    assert _wait.until(lambda: True, 0) is True


def test_woken_by_other_thread():
    state = []
    t = threading.Timer(0.05, lambda: (state.append(1), _wait.notify()))
    t.start()
    assert _wait.until(lambda: state, 30)
    t.join()


def test_woken_by_signal_handler_on_waiting_thread():
    # As with irq delivery on the main thread: the handler runs while we wait, on our thread.
    state = []

    def handler(signum, frame):
        state.append(1)
        _wait.notify()

    old = signal.signal(signal.SIGUSR2, handler)
    try:
        threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGUSR2)).start()
        assert _wait.until(lambda: state, 30)
    finally:
        signal.signal(signal.SIGUSR2, old)


def test_wakeup_between_check_and_park_is_not_lost():
    # The condition becomes true and notify() runs after the first check but before the waiter
    # parks: the waiter must still return promptly (not after the 30 s timeout).
    state = []
    calls = [0]

    def cond():
        calls[0] += 1
        if calls[0] == 2:  # inside until(), after the lock is registered
            state.append(1)
            _wait.notify()
            return False
        return bool(state)

    t0 = time.monotonic()
    assert _wait.until(cond, 30)
    assert time.monotonic() - t0 < 10


def test_many_waiters_all_woken():
    state = []
    done = []

    def waiter():
        done.append(_wait.until(lambda: state, 30))

    threads = [threading.Thread(target=waiter) for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    state.append(1)
    _wait.notify()
    for t in threads:
        t.join()
    assert done == [True] * 5
