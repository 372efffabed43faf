"""irq handlers and micropython.schedule callbacks run on the main thread, in order, one at a
time, whatever the main thread is doing -- with the real scheduler, in a real board process."""

import json
import re
import subprocess
import textwrap
import time

import pytest

from boardrun import run_board, script, start_board

WAITS = ["spin", "idle", "event", "event_no_timeout", "lock", "condition", "queue", "asyncio"]


def _check(report, n):
    assert report["count"] == n
    assert report["in_order"], report
    assert report["all_on_main"], report
    assert report["overlaps"] == 0, report
    assert report["nested"], report
    assert report["pending"] == 0, report


@pytest.mark.parametrize("state", WAITS)
def test_callbacks_end_a_wait_on_the_main_thread(state):
    # The last callback is what ends the wait, so all of them ran during it.
    r = run_board(script("sched_states.py"), state, "200")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    _check(report, 200)
    assert report["inside"] == 200


@pytest.mark.parametrize("state", ["sleep", "sleep_ms"])
def test_callbacks_run_during_sleep_and_sleep_keeps_its_length(state):
    r = run_board(script("sched_states.py"), state, "200")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    _check(report, 200)
    assert report["inside"] > 0  # delivered while sleeping, not after
    assert report["slept"] >= 1.0  # interrupted sleeps resume for the remaining time


@pytest.mark.parametrize("state", ["spin", "sleep", "event"])
def test_micropython_schedule_from_a_thread(state):
    # micropython.schedule with a board-sized queue: the producer retries on "queue full".
    r = run_board(script("sched_states.py"), state, "150", "schedule")
    assert r.returncode == 0, r.stderr
    _check(json.loads(r.stdout), 150)


def test_callbacks_run_while_blocked_reading_stdin():
    proc = start_board(
        script("sched_states.py"), "stdin", "200",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # The last callback prints this while the main thread is inside readline().
        assert proc.stdout.readline() == "delivered\n"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    report = json.loads(out)
    _check(report, 200)
    assert report["inside"] == 200


def test_main_thread_calls_racing_a_producer_do_not_deadlock():
    # The wake-up signal can arrive while the main thread is itself inside call();
    # the handler must not block on the scheduler's own lock (it did with a plain Lock).
    code = textwrap.dedent(
        """
        import threading, time, micropython
        from bleboard.runtime import scheduler
        s = scheduler.default()
        count = [0]
        def cb(x):
            count[0] += 1
        stop = [False]
        def producer():
            while not stop[0]:
                s.call(cb, 1)
        threading.Thread(target=producer, daemon=True).start()
        for i in range(10000):
            s.call(cb, 2)
            if i % 3 == 0:
                try:
                    micropython.schedule(cb, 3)
                except RuntimeError:
                    pass
        stop[0] = True
        print('done')
        """
    )
    r = run_board("-c", code, timeout=60)
    assert (r.returncode, r.stdout) == (0, "done\n"), r.stderr


def test_lines_printed_by_handlers_and_main_stay_whole():
    # Handlers print while the main thread prints into a pipe that fills up.
    code = textwrap.dedent(
        """
        import threading, time
        from bleboard.runtime import scheduler
        s = scheduler.default()
        def cb(i):
            print('handler', i)
        def producer():
            for i in range(300):
                s.call(cb, i)
                time.sleep(0.0005)
        t = threading.Thread(target=producer)
        t.start()
        i = 0
        while t.is_alive() or i < 20000:
            print('main', i)
            i += 1
        """
    )
    proc = start_board("-c", code, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    for n, line in enumerate(proc.stdout):
        lines.append(line)
        if n % 5000 == 0:
            time.sleep(0.05)  # a slow reader: the pipe fills up and writes block
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 0, err
    pattern = re.compile(rb"^(main|handler) \d+\n$")
    assert all(pattern.match(line) for line in lines)
    handler = [int(line.split()[1]) for line in lines if line.startswith(b"handler")]
    assert handler == list(range(300))


def test_schedule_semantics():
    code = textwrap.dedent(
        """
        import micropython, threading
        order = []
        def inner(x):
            order.append(('inner', x))
        def outer(x):
            order.append(('outer', x))
            micropython.schedule(inner, x)  # runs after outer returns
            order.append(('outer end', x))
        micropython.schedule(outer, 1)
        print(order)
        def fail(x):
            raise ValueError('in callback %d' % x)
        micropython.schedule(fail, 5)
        print('still running')
        # A full queue raises RuntimeError, as on a board.
        from bleboard.runtime import scheduler
        hold = scheduler.default().hold()
        with hold:
            n = 0
            try:
                for n in range(100):
                    micropython.schedule(lambda x: None, n)
            except RuntimeError as e:
                print('full after', n, e)
        print(micropython.const(123), micropython.native(len) is len, micropython.viper(len) is len)
        """
    )
    r = run_board("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "[('outer', 1), ('outer end', 1), ('inner', 1)]",
        "still running",
        "full after 8 schedule queue full",
        "123 True True",
    ]
    assert "ValueError: in callback 5" in r.stderr and "Traceback" in r.stderr


def test_disable_irq_defers_callbacks():
    code = textwrap.dedent(
        """
        import machine, micropython, threading, time
        seen = []
        state = machine.disable_irq()
        threading.Thread(target=micropython.schedule, args=(seen.append, 1)).start()
        time.sleep(0.2)
        print('while disabled', seen)
        machine.enable_irq(state)
        machine.enable_irq(state)  # a second enable with the same state is harmless
        print('after enable', seen)
        """
    )
    r = run_board("-c", code)
    assert r.stdout == "while disabled []\nafter enable [1]\n", r.stderr


def test_handlers_never_split_a_print_and_pending_ones_run_at_the_end():
    # With the wake-up signal blocked, queued callbacks wait for the next safe point:
    # the end of a whole print (never between its text and its newline) or, like
    # MicroPython's unix port, the end of the program.
    code = textwrap.dedent(
        """
        import micropython, signal, threading
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        def from_thread(msg):
            t = threading.Thread(target=micropython.schedule, args=(print, msg))
            t.start()
            t.join()
        from_thread('handler 1')
        print('main', 'line', sep='-')
        from_thread('handler 2')
        """
    )
    r = run_board("-c", code)
    assert (r.returncode, r.stdout) == (0, "main-line\nhandler 1\nhandler 2\n"), r.stderr
