"""`bleboard run` behaves like `python -c/-/FILE` for a test runner."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from boardrun import board_cmd, clean_env, run_board, start_board


def test_c_argv_path0_cwd(tmp_path):
    code = "import os, sys; print(sys.argv); print(repr(sys.path[0])); print(os.getcwd())"
    r = run_board("-c", code, "a", "-v", "--x", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["['-c', 'a', '-v', '--x']", "''", str(tmp_path)]
    assert r.stderr == ""


def test_c_matches_python_exactly(tmp_path):
    code = "import sys; print(sys.argv[1:], sys.path[0] == '', __name__)"
    ours = run_board("-c", code, "1", "2", cwd=tmp_path)
    theirs = subprocess.run([sys.executable, "-c", code, "1", "2"], capture_output=True, text=True, cwd=tmp_path)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)


def test_multitest_prefix_needs_empty_path_entry(tmp_path):
    # run-multitests.py prepends code that removes '' from sys.path.
    r = run_board("-c", "import sys\nsys.path.remove('')\nimport micropython\nprint('ok')", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr


def test_file_argv_and_path0(tmp_path):
    sub = tmp_path / "prog"
    sub.mkdir()
    (sub / "helper_mod.py").write_text("VALUE = 42\n")
    (sub / "main.py").write_text("import sys, helper_mod\nprint(sys.argv, helper_mod.VALUE, __name__, __file__)\n")
    r = run_board("prog/main.py", "x", "-c", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['prog/main.py', 'x', '-c'] 42 __main__ prog/main.py\n"


def test_missing_file_status_2(tmp_path):
    r = run_board("nope.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "can't open file 'nope.py'" in r.stderr and r.stdout == ""


def test_program_from_stdin(tmp_path):
    r = run_board("-", "arg1", input="import sys\nprint(sys.argv, repr(sys.path[0]))\n", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "['-', 'arg1'] ''\n", "")


def test_stdin_passed_through():
    r = run_board("-c", "import sys\nfor line in sys.stdin: print(line.strip().upper())", input="ab\ncd\n")
    assert (r.returncode, r.stdout) == (0, "AB\nCD\n")


@pytest.mark.parametrize(
    "code, status, stderr",
    [
        ("pass", 0, ""),
        ("import sys; sys.exit()", 0, ""),
        ("import sys; sys.exit(3)", 3, ""),
        ("raise SystemExit(7)", 7, ""),
        ("import sys; sys.exit('bye now')", 1, "bye now\n"),
        ("import sys; print('out'); sys.stdout.flush(); sys.exit(None)", 0, ""),
    ],
)
def test_exit_status(code, status, stderr):
    r = run_board("-c", code)
    assert (r.returncode, r.stderr) == (status, stderr)


def test_traceback_like_python():
    code = "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n"
    ours = run_board("-c", code)
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ours.returncode == 1
    assert ours.stdout == "before\n"
    assert ours.stderr == theirs.stderr
    assert "run_cmd" not in ours.stderr


def test_syntax_error_like_python():
    ours = run_board("-c", "x = (1,\nprint(x")
    theirs = subprocess.run([sys.executable, "-c", "x = (1,\nprint(x"], capture_output=True, text=True)
    assert (ours.returncode, ours.stderr) == (1, theirs.stderr)


def test_excepthook_honoured():
    code = "import sys\nsys.excepthook = lambda t, e, tb: print('hook', t.__name__, tb.tb_frame.f_code.co_name)\n1/0\n"
    r = run_board("-c", code)
    assert (r.returncode, r.stdout) == (1, "hook ZeroDivisionError <module>\n")


def test_atexit_runs():
    r = run_board("-c", "import atexit\natexit.register(print, 'bye')\nprint('main')")
    assert (r.returncode, r.stdout) == (0, "main\nbye\n")


def test_non_daemon_thread_does_not_keep_board_alive():
    # MicroPython's unix port cancels all other threads when the main program ends
    # (mp_thread_deinit -> pthread_cancel); a board program's process ends with it.
    code = textwrap.dedent(
        """
        import threading, time
        threading.Thread(target=time.sleep, args=(60,)).start()
        print('main done')
        """
    )
    r = run_board("-c", code, timeout=20)
    assert (r.returncode, r.stdout) == (0, "main done\n")


def _start_and_wait_ready(code, **kw):
    proc = start_board("-c", code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    assert proc.stdout.readline() == "ready\n"
    return proc


def test_sigterm_ends_sleeping_program_promptly():
    code = "import time\ntry:\n    print('ready')\n    time.sleep(60)\nfinally:\n    print('unwound')\n"
    proc = _start_and_wait_ready(code)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)  # the program would sleep 60 s
    assert proc.returncode == 128 + signal.SIGTERM
    assert (out, err) == ("unwound\n", "")


def test_sigterm_ends_program_that_swallows_systemexit():
    code = "import time\nprint('ready')\nwhile True:\n    try:\n        time.sleep(60)\n    except BaseException:\n        pass\n"
    proc = _start_and_wait_ready(code)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=15)
    assert proc.returncode == 128 + signal.SIGTERM


def test_sigint_is_keyboard_interrupt_like_python():
    code = "import time\nprint('ready')\ntime.sleep(60)\n"
    proc = _start_and_wait_ready(code)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGINT  # CPython re-raises SIGINT after the traceback
    assert err.startswith("Traceback (most recent call last):\n") and err.endswith("KeyboardInterrupt\n")


@pytest.mark.parametrize("how", ["env", "flag"])
def test_unbuffered_lines_arrive_one_by_one(how):
    # Each line must reach the reader while the program still runs (the multitest runner
    # reads line by line with a silence timeout); the program waits for our answer.
    env = clean_env(PYTHONUNBUFFERED="1") if how == "env" else clean_env()
    opts = [] if how == "env" else ["-u"]
    code = "import sys\nfor i in range(3):\n    print('line', i)\n    sys.stdin.readline()\nprint('end', end='')\n"
    proc = start_board(*opts, "-c", code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        for i in range(3):
            assert proc.stdout.readline() == "line %d\n" % i
            proc.stdin.write("go\n")
            proc.stdin.flush()
        assert proc.stdout.read() == "end"
    finally:
        proc.kill()
        proc.wait()


def test_default_output_is_line_buffered():
    code = "import sys\nprint('first')\nsys.stdin.readline()\n"
    proc = start_board("-c", code, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"first\n"
    finally:
        proc.kill()
        proc.wait()


def test_silent_unless_verbose():
    quiet = run_board("-c", "print('x')")
    assert (quiet.stdout, quiet.stderr) == ("x\n", "")
    loud = run_board("-v", "-c", "print('x')")
    assert loud.stdout == "x\n" and "bleboard" in loud.stderr
    env_loud = run_board("-c", "import os; print(os.environ['BLEBOARD_VERBOSE'])", env=clean_env(BLEBOARD_VERBOSE="1"))
    assert env_loud.stdout == "1\n" and "bleboard" in env_loud.stderr


def test_radio_options_reach_the_port_environment():
    code = "import os\nfor v in ('BLEBOARD_HCI', 'BLEBOARD_SNOOP', 'BLEBOARD_LATENCY'): print(os.environ.get(v))"
    r = run_board("--hci", "serial:/dev/ttyUSB0,1000000,rtscts", "--snoop", "cap.log", "--latency", "fast", "-c", code)
    assert r.stdout.splitlines() == ["serial:/dev/ttyUSB0,1000000,rtscts", "cap.log", "fast"]
    r = run_board("-c", code, env=clean_env(BLEBOARD_HCI="usb:0", BLEBOARD_LATENCY="2.5"))
    assert r.stdout.splitlines() == ["usb:0", "None", "2.5"]


@pytest.mark.parametrize(
    "value, ok", [("board", True), ("fast", True), ("7.5", True), ("0", True), ("slow", False), ("-1", False)]
)
def test_latency_argument_checked(value, ok):
    r = run_board("--latency", value, "-c", "pass")
    if ok:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 2 and "--latency" in r.stderr


def test_c_without_code_is_an_error():
    r = run_board("-c")
    assert r.returncode == 2 and "-c" in r.stderr


def test_startup_does_not_import_the_radio():
    code = "import sys\nprint(sorted(m for m in ('bumble', 'asyncio', 'bluetooth') if m in sys.modules))"
    r = run_board("-c", code)
    assert r.stdout == "[]\n", r.stderr


def _fake_bluetooth(tmp_path, shutdown_body):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "bluetooth.py").write_text("import time\ndef _shutdown():\n" + textwrap.indent(shutdown_body, "    "))
    return clean_env(PYTHONPATH=str(lib))


def test_radio_shutdown_hook_runs_after_the_program(tmp_path):
    env = _fake_bluetooth(tmp_path, "print('radio shut down')\n")
    r = run_board("-c", "import bluetooth, atexit\natexit.register(print, 'atexit')\nprint('main')", env=env)
    assert (r.returncode, r.stdout) == (0, "main\nradio shut down\natexit\n"), r.stderr
    r = run_board("-c", "print('no radio used')", env=env)
    assert r.stdout == "no radio used\n"


def test_hanging_radio_shutdown_cannot_keep_the_board_alive(tmp_path):
    env = _fake_bluetooth(tmp_path, "time.sleep(60)\n")
    r = run_board("-c", "import bluetooth, sys\nsys.exit(4)", env=env, timeout=20)
    assert r.returncode == 4


def test_board_with_the_real_radio_ends_cleanly():
    # The port on the default virtual radio: activate, then end with a thread still running.
    code = textwrap.dedent(
        """
        import bluetooth, threading, time
        ble = bluetooth.BLE()
        ble.active(True)
        print(len(ble.config('mac')[1]))
        threading.Thread(target=time.sleep, args=(60,)).start()
        """
    )
    r = run_board("-c", code, timeout=30)
    assert (r.returncode, r.stdout) == (0, "6\n"), r.stderr


def test_no_program_on_a_terminal_gives_a_repl():
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # child: the board on a terminal
        os.execve(sys.executable, board_cmd(), clean_env())

    def read_until(token):
        data, deadline = b"", time.monotonic() + 15
        while token not in data and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    data += os.read(fd, 1024)
                except OSError:
                    break
        return data

    try:
        assert read_until(b">>> ").endswith(b">>> ")
        os.write(fd, b"import machine, time; print(time.ticks_add(1, 2), machine.freq())\n")
        assert read_until(b"3 160000000\r\n>>> ").endswith(b"3 160000000\r\n>>> ")
        os.write(fd, b"\x04")  # Ctrl-D at the prompt ends the REPL and the board
        deadline = time.monotonic() + 15
        status = None
        while status is None and time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                status = None
                time.sleep(0.05)
        assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_signals_are_routed_to_the_main_thread():
    # Other threads block SIGTERM/SIGINT, so the kernel gives them to the main thread,
    # whose sleep they interrupt (instead of a radio thread, unnoticed until the sleep ends).
    code = textwrap.dedent(
        """
        import _thread, signal, threading, time
        masks = []
        def record():
            masks.append(sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        t = threading.Thread(target=record)
        t.start()
        t.join()
        _thread.start_new_thread(record, ())
        while len(masks) < 2:
            time.sleep(0.01)
        print(masks, sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        """
    )
    r = run_board("-c", code)
    assert r.stdout == "[[2, 15], [2, 15]] []\n", r.stderr


@pytest.mark.parametrize("attempt", range(5))  # the race it guards against is narrow: try a few times
def test_sigterm_with_busy_threads_ends_promptly(attempt):
    # Busy threads widen the window in which SIGTERM lands after the main thread's last
    # signal check and before its sleep starts; the sigterm helper must still end it.
    code = textwrap.dedent(
        """
        import threading, time
        def spin():
            while True:
                pass
        for _ in range(3):
            threading.Thread(target=spin, daemon=True).start()
        print('ready')
        time.sleep(60)
        """
    )
    proc = _start_and_wait_ready(code)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)  # the program would sleep 60 s
    assert proc.returncode == 128 + signal.SIGTERM


def test_sigterm_ends_a_board_blocked_on_a_full_stdout_pipe():
    # The multitest runner leaves output unread in phase 1 and terminates instances at the
    # end: a board blocked writing to a full pipe must still end.
    code = "import sys\nprint('ready', flush=True)\nwhile True:\n    print('x' * 1000)\n"
    proc = start_board("-c", code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 20
        # Not reading: wait until the pipe is full and the board is blocked in write().
        while time.monotonic() < deadline and _state(proc.pid) != "S":
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 128 + signal.SIGTERM
    finally:
        proc.kill()
        proc.wait()


def _state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]
