"""The virtual board's `machine` and `micropython` modules, in real board processes."""

import textwrap

import pytest

from boardrun import clean_env, run_board

RESET_PROGRAM = textwrap.dedent(
    """
    import machine, sys
    print('cause', machine.reset_cause(), sys.argv[1:])
    if machine.reset_cause() == machine.PWRON_RESET:
        print('resetting')
        machine.{how}
        print('not reached')
    """
)


@pytest.mark.parametrize(
    "how, cause", [("reset()", 2), ("soft_reset()", 5), ("deepsleep(10)", 4)]
)
def test_reset_restarts_the_program_with_its_cause(how, cause):
    r = run_board("-c", RESET_PROGRAM.format(how=how), "x", "y")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "cause 1 ['x', 'y']\nresetting\ncause %d ['x', 'y']\n" % cause


def test_reset_restarts_a_file_program_and_a_stdin_program(tmp_path):
    prog = tmp_path / "main.py"
    prog.write_text(RESET_PROGRAM.format(how="reset()"))
    r = run_board(str(prog), "arg", cwd=tmp_path)
    assert r.stdout == "cause 1 ['arg']\nresetting\ncause 2 ['arg']\n", r.stderr
    r = run_board("-", input=RESET_PROGRAM.format(how="reset()"))
    assert r.stdout == "cause 1 []\nresetting\ncause 2 []\n", r.stderr


def test_reset_can_exit_for_the_runner_instead():
    r = run_board("-c", RESET_PROGRAM.format(how="reset()"), env=clean_env(BLEBOARD_RESET="exit"))
    assert (r.returncode, r.stdout) == (82, "cause 1 []\nresetting\n")


def test_unique_id_is_stable_within_a_board_and_differs_between_boards():
    code = "import machine\nu = machine.unique_id()\nassert u == machine.unique_id() and len(u) == 6\nprint(u.hex())"
    first = run_board("-c", code)
    second = run_board("-c", code)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert len(first.stdout.strip()) == 12
    assert first.stdout != second.stdout


def test_freq_idle_lightsleep_and_bad_arguments():
    code = textwrap.dedent(
        """
        import machine, time
        print(machine.freq())
        machine.freq(80000000)
        print(machine.freq())
        for bad in (0, -5):
            try:
                machine.freq(bad)
            except ValueError:
                print('ValueError')
        try:
            machine.freq(1.5)
        except TypeError:
            print('TypeError')
        t0 = time.ticks_ms()
        for _ in range(5):
            machine.idle()
        machine.lightsleep(20)
        print(time.ticks_diff(time.ticks_ms(), t0) >= 20)
        """
    )
    r = run_board("-c", code)
    assert r.stdout == "160000000\n80000000\nValueError\nValueError\nTypeError\nTrue\n", r.stderr


def test_idle_loop_runs_scheduled_callbacks():
    code = textwrap.dedent(
        """
        import machine, micropython, threading
        done = []
        threading.Timer(0.05, micropython.schedule, (done.append, threading.get_ident())).start()
        while not done:
            machine.idle()
        print(done[0] == threading.get_ident())
        """
    )
    assert run_board("-c", code).stdout == "True\n"


def test_pin_signal_and_pin_irq():
    code = textwrap.dedent(
        """
        import machine, time
        led = machine.Pin('LED', machine.Pin.OUT, value=0)
        events = []
        led.irq(lambda p: events.append(p.value()), machine.Pin.IRQ_RISING)
        led.on(); led.off(); led.toggle(); led(0); led.value(1)
        time.sleep_ms(10)
        print(led.value(), machine.Pin('LED').value(), events)
        sig = machine.Signal(machine.Pin(2, machine.Pin.OUT), invert=True)
        sig.on()
        print(machine.Pin(2).value(), sig.value())
        btn = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
        print(btn.value(), repr(btn))
        try:
            machine.Pin(3, 99)
        except ValueError as e:
            print('ValueError', e)
        """
    )
    r = run_board("-c", code)
    assert r.stdout.splitlines() == [
        "1 1 [1, 1, 1]",
        "0 1",
        "1 Pin(0)",
        "ValueError invalid pin mode: 99",
    ], r.stderr


def test_timer_callbacks_run_on_the_main_thread():
    code = textwrap.dedent(
        """
        import machine, threading
        main = threading.get_ident()
        ticks = []
        done = threading.Event()
        def tick(t):
            ticks.append(threading.get_ident() == main)
            if len(ticks) == 5:
                t.deinit()
                done.set()
        tim = machine.Timer(-1)
        tim.init(mode=machine.Timer.PERIODIC, period=5, callback=tick)
        print(done.wait(10))
        one = threading.Event()
        machine.Timer(-1, mode=machine.Timer.ONE_SHOT, period=1, callback=lambda t: one.set())
        print(one.wait(10), ticks)
        """
    )
    r = run_board("-c", code)
    assert r.stdout == "True\nTrue [True, True, True, True, True]\n", r.stderr


def test_micropython_introspection_functions():
    code = textwrap.dedent(
        """
        import micropython
        micropython.mem_info()
        micropython.mem_info(1)
        micropython.qstr_info()
        print(micropython.stack_use() > 0)
        print(micropython.heap_lock(), micropython.heap_locked(), micropython.heap_unlock(), micropython.heap_locked())
        micropython.alloc_emergency_exception_buf(100)
        print(micropython.opt_level(), micropython.opt_level(2), micropython.opt_level())
        micropython.kbd_intr(-1)
        micropython.kbd_intr(3)
        try:
            micropython.opt_level('x')
        except TypeError:
            print('TypeError')
        """
    )
    r = run_board("-c", code)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr
    assert lines[0].startswith("stack: ") and lines[1].startswith("GC: total: ")
    assert lines[6].startswith("qstr pool: ")
    assert lines[7:] == ["True", "0 1 0 0", "0 None 2", "TypeError"]


def test_unique_id_survives_reset():
    code = textwrap.dedent(
        """
        import machine, os
        print(machine.unique_id().hex(), os.environ.get('BLEBOARD_UNIQUE_ID'))
        if machine.reset_cause() == machine.PWRON_RESET:
            machine.reset()
        """
    )
    r = run_board("-c", code)
    first, second = r.stdout.splitlines()
    assert first.split()[0] == second.split()[0], r.stderr
    assert first.split()[1] == second.split()[1] == "None"  # not leaked to the program's children


def test_board_after_reset_still_runs_handlers_on_the_main_thread():
    # exec keeps ignored signals: the wake-up signal (ignored while the old program ended)
    # and kbd_intr(-1)'s SIGINT must both work again in the restarted board.
    code = textwrap.dedent(
        """
        import machine, micropython, signal, threading
        seen = []
        threading.Thread(target=micropython.schedule, args=(seen.append, threading.get_ident())).start()
        while not seen:
            machine.idle()
        print(machine.reset_cause(), seen[0] == threading.get_ident(),
              signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        if machine.reset_cause() == machine.PWRON_RESET:
            micropython.kbd_intr(-1)
            machine.reset()
        """
    )
    r = run_board("-c", code)
    assert r.stdout == "1 True True\n2 True True\n", r.stderr
