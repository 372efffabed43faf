"""Board program: a producer thread queues callbacks while the main thread is in STATE.

Run as `bleboard run sched_states.py STATE [N] [call|schedule]`.  Prints one
JSON line describing what the callbacks saw.  For the waiting states the last
callback is what ends the wait, so every callback must have run during it.
"""

import asyncio
import json
import queue
import sys
import threading
import time

import machine
import micropython

from bleboard.runtime import scheduler

STATE = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
VIA = sys.argv[3] if len(sys.argv) > 3 else "call"
SLEEP = 1.0
TIMEOUT = 20

sched = scheduler.default()
MAIN = threading.get_ident()
log = []  # (kind, index, on main thread, main was inside the blocking state)
inside = [False]
running = [0]
overlaps = [0]
go = threading.Event()
done = threading.Event()
spin_done = [False]
lock = threading.Lock()
cond = threading.Condition()
cond_ready = [False]
items = queue.Queue()
flag = asyncio.ThreadSafeFlag()


def finish():
    spin_done[0] = True
    done.set()
    if lock.locked():
        lock.release()
    with cond:
        cond_ready[0] = True
        cond.notify()
    items.put("last")
    flag.set()
    if STATE == "stdin":
        print("delivered", flush=True)


def nested(i):
    log.append(("nested", i, threading.get_ident() == MAIN, inside[0]))


def callback(i):
    running[0] += 1
    if running[0] != 1:
        overlaps[0] += 1
    log.append(("cb", i, threading.get_ident() == MAIN, inside[0]))
    if i % 10 == 0:
        time.sleep(0.001)  # a slow handler: wake-ups arriving now must not nest
    if i % 50 == 0:
        sched.call(nested, i)  # queued from a handler: runs after it, in queue order
    running[0] -= 1
    if i == N - 1:
        finish()


def producer():
    go.wait()
    for i in range(N):
        if VIA == "call":
            sched.call(callback, i)
        else:
            while True:
                try:
                    micropython.schedule(callback, i)
                    break
                except RuntimeError:  # queue full, as on a board: retry
                    time.sleep(0.0005)
        if i % 7 == 0:
            time.sleep(0.0005)


def blocking_state():
    """Put the main thread in STATE until the callbacks are done; returns seconds slept if relevant."""
    if STATE == "sleep":
        t0 = time.monotonic()
        time.sleep(SLEEP)
        return time.monotonic() - t0
    if STATE == "sleep_ms":
        t0 = time.monotonic()
        time.sleep_ms(int(SLEEP * 1000))
        return time.monotonic() - t0
    if STATE == "spin":
        deadline = time.monotonic() + TIMEOUT
        while not spin_done[0] and time.monotonic() < deadline:
            pass
    elif STATE == "idle":
        deadline = time.monotonic() + TIMEOUT
        while not spin_done[0] and time.monotonic() < deadline:
            machine.idle()
    elif STATE == "event":
        assert done.wait(TIMEOUT)
    elif STATE == "event_no_timeout":
        done.wait()
    elif STATE == "lock":
        lock.acquire()
        assert lock.acquire(timeout=TIMEOUT)
    elif STATE == "condition":
        with cond:
            assert cond.wait_for(lambda: cond_ready[0], TIMEOUT)
    elif STATE == "queue":
        assert items.get(timeout=TIMEOUT) == "last"
    elif STATE == "asyncio":
        asyncio.run(asyncio.wait_for(flag.wait(), TIMEOUT))
    elif STATE == "stdin":
        assert sys.stdin.readline() == "go\n"
    else:
        raise ValueError("unknown state " + STATE)
    return None


thread = threading.Thread(target=producer, daemon=True)
thread.start()
inside[0] = True
go.set()
slept = blocking_state()
inside[0] = False
thread.join(TIMEOUT)
done.wait(TIMEOUT)  # sleep states: the rest is delivered while we wait here

main_order = [i for kind, i, _, _ in log if kind == "cb"]
position = {(kind, i): pos for pos, (kind, i, _, _) in enumerate(log)}
nested_seen = sorted(i for kind, i in position if kind == "nested")
nested_after_parent = all(position[("nested", i)] > position[("cb", i)] for i in nested_seen)
print(
    json.dumps(
        {
            "state": STATE,
            "count": len(main_order),
            "in_order": main_order == list(range(N)),
            "all_on_main": all(on_main for _, _, on_main, _ in log),
            "overlaps": overlaps[0],
            "inside": sum(1 for kind, _, _, was_inside in log if kind == "cb" and was_inside),
            "nested": nested_seen == list(range(0, N, 50)) and nested_after_parent,
            "slept": slept,
            "pending": sched.pending(),
        }
    )
)
