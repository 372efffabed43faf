"""asyncio.ThreadSafeFlag: set from threads, signal handlers and irq handlers; awaited in any loop."""

import asyncio
import signal
import threading

import pytest

from bleboard.runtime.threadsafeflag import ThreadSafeFlag
from boardrun import run_board

TIMEOUT = 10  # seconds; only reached if a wake-up is lost


def test_set_before_wait_returns_at_once_and_clears():
    flag = ThreadSafeFlag()

    async def main():
        flag.set()
        await asyncio.wait_for(flag.wait(), TIMEOUT)
        assert not flag.is_set()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(flag.wait(), 0.05)

    asyncio.run(main())


def test_clear_cancels_a_pending_set():
    flag = ThreadSafeFlag()

    async def main():
        flag.set()
        flag.clear()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(flag.wait(), 0.05)

    asyncio.run(main())


def test_set_from_another_thread_no_lost_wakeups():
    # Ping-pong: every set() must wake the waiter; a lost wake-up hangs until TIMEOUT.
    flag = ThreadSafeFlag()
    ack = threading.Event()
    rounds = 300

    def producer():
        for _ in range(rounds):
            flag.set()
            assert ack.wait(TIMEOUT)
            ack.clear()

    async def main():
        thread = threading.Thread(target=producer)
        thread.start()
        for _ in range(rounds):
            await asyncio.wait_for(flag.wait(), TIMEOUT)
            ack.set()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)

    asyncio.run(main())


def test_burst_of_sets_wakes_at_least_once():
    flag = ThreadSafeFlag()

    async def main():
        threading.Thread(target=lambda: [flag.set() for _ in range(1000)]).start()
        await asyncio.wait_for(flag.wait(), TIMEOUT)

    asyncio.run(main())


def test_set_from_signal_handler_while_loop_waits():
    flag = ThreadSafeFlag()
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: flag.set())
    try:

        async def main():
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            await asyncio.wait_for(flag.wait(), TIMEOUT)

        asyncio.run(main())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_only_one_waiter():
    flag = ThreadSafeFlag()

    async def main():
        first = asyncio.ensure_future(flag.wait())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError):
            await flag.wait()
        flag.set()
        await asyncio.wait_for(first, TIMEOUT)

    asyncio.run(main())


def test_cancelled_wait_leaves_no_waiter_behind():
    flag = ThreadSafeFlag()

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(flag.wait(), 0.01)
        assert flag._waiter is None
        threading.Timer(0.01, flag.set).start()
        await asyncio.wait_for(flag.wait(), TIMEOUT)

    asyncio.run(main())


def test_works_in_successive_loops_and_after_loop_closed():
    flag = ThreadSafeFlag()

    async def wait_once():
        threading.Timer(0.01, flag.set).start()
        await asyncio.wait_for(flag.wait(), TIMEOUT)

    asyncio.run(wait_once())
    asyncio.run(wait_once())
    loop = asyncio.new_event_loop()
    loop.create_task(flag.wait())
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()  # task abandoned with its waiter registered
    flag.set()  # must not raise


def test_set_from_irq_handler_on_board():
    # A scheduled callback (how irq handlers run) sets the flag while asyncio.run()
    # waits in its selector on the main thread.
    code = (
        "import asyncio, threading, micropython\n"
        "flag = asyncio.ThreadSafeFlag()\n"
        "main_thread = threading.get_ident()\n"
        "seen = []\n"
        "def handler(n):\n"
        "    seen.append(threading.get_ident() == main_thread)\n"
        "    flag.set()\n"
        "async def main():\n"
        "    for n in range(20):\n"
        "        threading.Timer(0.002, micropython.schedule, (handler, n)).start()\n"
        "        await asyncio.wait_for(flag.wait(), 10)\n"
        "    print(len(seen), all(seen))\n"
        "asyncio.run(main())\n"
    )
    r = run_board("-c", code)
    assert (r.returncode, r.stdout) == (0, "20 True\n"), r.stderr
