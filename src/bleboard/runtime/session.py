"""The life of one virtual board process: how it ends and how it resets.

A board program ends the way MicroPython's unix port ends: when the main
program is done the process exits, whatever other threads are doing (the unix
port cancels them).  So `finish()` never waits for threads: it stops irq
delivery, gives the radio a clean shutdown (`bluetooth._shutdown()`, bounded by
a watchdog), runs `atexit` handlers, flushes, and calls `os._exit`.

`machine.reset()` and friends restart the board: the process re-executes the
same `bleboard run` command line with BLEBOARD_RESET_CAUSE set, so the program
starts again from the top with a fresh interpreter (and a fresh radio), as
after a reset on a board.  With BLEBOARD_RESET=exit, or outside `bleboard run`,
the process exits instead with status RESET_EXIT_BASE + cause, so a runner can
handle the reboot itself.

Signals: SIGTERM unwinds the program (status 143) within SIGTERM_GRACE, even
if it swallows SystemExit or the signal lands just before a blocking call;
threads other than the main one block SIGTERM/SIGINT so the kernel gives
those to the main thread, as a single-threaded board program expects.
"""

import atexit
import logging
import os
import signal
import sys
import threading

log = logging.getLogger("bleboard.runtime")

# machine.reset_cause() values (those of the esp32 port)
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

RESET_EXIT_BASE = 80  # exit status when a reset cannot re-execute: 80 + cause
SHUTDOWN_GRACE = 3.0  # seconds the radio shutdown and atexit handlers may take
SIGTERM_GRACE = 2.0  # seconds a program may take to unwind after SIGTERM

_reexec_args = None  # `bleboard run` arguments that start this program again
_reset_cause = PWRON_RESET
_unique_id = None  # machine.unique_id(), kept across resets


def configure(reexec_args, reset_cause=PWRON_RESET, unique_id=None):
    """Called by `bleboard run`: how to restart this program, why it started, its id."""
    global _reexec_args, _reset_cause, _unique_id
    _reexec_args = list(reexec_args) if reexec_args is not None else None
    _reset_cause = reset_cause
    _unique_id = unique_id


def reset_cause():
    return _reset_cause


def unique_id(compute):
    """This board's id: kept from before a reset, else `compute()` once."""
    global _unique_id
    if _unique_id is None:
        _unique_id = compute()
    return _unique_id


def flush_stdio():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # the reader went away or the stream is closed


def stop_irq_delivery():
    """Drop pending callbacks and stop running new ones (the program is over)."""
    from bleboard.runtime import scheduler

    sched = scheduler._default
    if sched is None:
        return
    if sched.mode == "main" and threading.current_thread() is threading.main_thread():
        # Ignore (not default-kill) late wake-up signals from the radio thread.
        try:
            signal.signal(scheduler.WAKE_SIGNAL, signal.SIG_IGN)
        except ValueError:
            pass
    sched.close()


def shutdown_radio():
    """Give the radio a clean shutdown if the program used `bluetooth`."""
    bluetooth = sys.modules.get("bluetooth")
    shutdown = getattr(bluetooth, "_shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except Exception:  # best effort on the way out
            log.exception("bluetooth._shutdown() failed")


def arm_watchdog(seconds, status):
    """Exit with `status` after `seconds` no matter what the program does."""

    def expire():
        log.debug("watchdog: forcing exit %d", status)
        # Flushing can block (a full pipe nobody reads, a stream lock held by a stuck
        # thread): give it a moment on its own thread, then exit regardless.
        flusher = threading.Thread(target=flush_stdio, daemon=True)
        flusher.start()
        flusher.join(0.5)
        os._exit(status)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def finish(status, *, interrupted=False):
    """End the process now with `status` (never returns, threads do not keep us alive)."""
    try:
        _exit_on_sigterm()
        arm_watchdog(SHUTDOWN_GRACE, 130 if interrupted else status)
        for step in (stop_irq_delivery, shutdown_radio, atexit._run_exitfuncs):
            try:
                step()
            except Exception:  # whatever fails, the process must still end
                log.exception("exit step %s failed", step.__name__)
        flush_stdio()
        if interrupted:
            # Like CPython after an uncaught KeyboardInterrupt: die by SIGINT.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        os._exit(130 if interrupted else status)


def _board_address():
    """The public address of the board's radio, if it is on (for the board after the reset)."""
    bt = sys.modules.get("bluetooth")
    try:
        ble = bt.BLE() if bt is not None and hasattr(bt, "BLE") else None
        if ble is not None and ble.active():
            addr_type, addr = ble.config("mac")
            if addr_type == 0:
                return ":".join("%02X" % b for b in addr)
    except Exception:  # a reset must happen whatever the radio says
        pass
    return None


def restart(cause):
    """Reset the board: run the program again from the top (see module doc)."""
    log.debug("reset (cause %d)", cause)
    stop_irq_delivery()
    address = _board_address()
    shutdown_radio()
    flush_stdio()
    if _reexec_args is None or os.environ.get("BLEBOARD_RESET") == "exit":
        os._exit(RESET_EXIT_BASE + cause)
    env = dict(os.environ, BLEBOARD_RESET_CAUSE=str(cause))
    if _unique_id is not None:
        env["BLEBOARD_UNIQUE_ID"] = _unique_id.hex()
    if address and not env.get("BLEBOARD_ADDRESS"):
        env["BLEBOARD_ADDRESS"] = address  # a board keeps its address across resets
    argv = [sys.executable, "-m", "bleboard", "run"] + _reexec_args
    try:
        # Ignored signals survive exec: give the new board Ctrl-C back (kbd_intr(-1) is undone
        # by a reset); the ignored wake-up signal is reset by `bleboard run` at start-up.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:
        pass  # not the main thread
    try:
        os.execve(sys.executable, argv, env)
    except OSError:
        log.exception("reset: cannot re-execute %s", sys.executable)
        os._exit(RESET_EXIT_BASE + cause)


_ROUTED_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def route_signals_to_main():
    """Threads started from now on block SIGTERM and SIGINT.

    The kernel hands a process-directed signal to any thread that does not block
    it; Python then runs the handler on the main thread only when that thread
    next executes bytecode -- after its `time.sleep(60)` if the signal landed on
    the radio thread.  With every other thread blocking them, the signals reach
    the main thread itself and interrupt its sleep or wait at once.
    """
    import _thread
    import threading

    original = _thread.start_new_thread
    if getattr(original, "routes_signals", False):
        return

    def start_new_thread(function, args, kwargs=None):
        # A new thread inherits its creator's signal mask.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _ROUTED_SIGNALS)
        try:
            if kwargs is None:
                return original(function, args)
            return original(function, args, kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    start_new_thread.routes_signals = True
    _thread.start_new_thread = start_new_thread
    threading._start_new_thread = start_new_thread


def _exit_on_sigterm():
    try:
        signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signal.SIGTERM))
    except ValueError:
        pass  # not the main thread


_sigterm_handled = threading.Event()


def on_sigterm(signum, frame):
    """SIGTERM handler: unwind the program (finally blocks run), bounded by a watchdog."""
    _sigterm_handled.set()
    arm_watchdog(SIGTERM_GRACE, 128 + signum)
    raise SystemExit(128 + signum)


def watch_sigterm():
    """Make SIGTERM prompt even when the main thread misses it.

    CPython runs a signal's Python handler at the main thread's next check
    for pending signals.  A signal that lands after that check but before a
    blocking call (`time.sleep(60)` right after a `print`) only trips a flag,
    and the handler waits until the call ends by itself.  So a helper thread
    learns of SIGTERM through the signal wake-up fd, re-sends it to the main
    thread -- now inside the blocking call, which it interrupts -- until the
    handler has run, and bounds the whole exit with a watchdog.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        os.close(read_fd)
        os.close(write_fd)
        return
    main_ident = threading.main_thread().ident
    term = bytes([signal.SIGTERM])

    def watch():
        while term not in os.read(read_fd, 512):
            pass  # other signals (irq wake-ups) are not our business
        arm_watchdog(SIGTERM_GRACE + 1, 128 + signal.SIGTERM)
        while not _sigterm_handled.wait(0.05):
            try:
                signal.pthread_kill(main_ident, signal.SIGTERM)
            except (ProcessLookupError, OSError):
                return

    threading.Thread(target=watch, name="bleboard-sigterm", daemon=True).start()
