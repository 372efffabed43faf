"""`bleboard board` against the real mpremote (the tool people use with USB boards) and raw protocol bytes.

The virtual board serves MicroPython's REPL on a pty; mpremote cannot tell it
from /dev/ttyACM0, so these are the same commands a user runs on hardware.
"""

import shutil
import subprocess

import pytest
import serial

from bleboard.tools import pty_board

MPREMOTE = shutil.which("mpremote")
pytestmark = pytest.mark.skipif(MPREMOTE is None, reason="mpremote is not installed (pip install mpremote)")


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    fs = tmp_path_factory.mktemp("boardfs")
    with pty_board.running_board(fs=str(fs)) as (path, proc):
        yield path, fs


def mpremote(path, *args, timeout=30):
    return subprocess.run([MPREMOTE, "connect", path, *args], capture_output=True, text=True, timeout=timeout)


def test_exec_and_eval(board):
    path, _ = board
    r = mpremote(path, "exec", "print(6 * 7); import sys; print(sys.platform != '')")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["42", "True"]


def test_run_file(board, tmp_path):
    path, _ = board
    prog = tmp_path / "prog.py"
    prog.write_text("import time\nfor i in range(3):\n    time.sleep_ms(1)\n    print('tick', i)\n")
    r = mpremote(path, "run", str(prog))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["tick 0", "tick 1", "tick 2"]


def test_filesystem_commands(board, tmp_path):
    path, fs = board
    src = tmp_path / "data.txt"
    src.write_text("line one\nline two\n")
    r = mpremote(path, "fs", "mkdir", ":sub", "+", "fs", "cp", str(src), ":sub/data.txt", "+",
                 "fs", "ls", ":sub", "+", "fs", "cat", ":sub/data.txt")
    assert r.returncode == 0, r.stderr
    assert "18 data.txt" in r.stdout and "line one\nline two" in r.stdout
    assert (fs / "sub" / "data.txt").read_text() == "line one\nline two\n"
    back = tmp_path / "back.txt"
    r = mpremote(path, "fs", "cp", ":sub/data.txt", str(back), "+", "fs", "rm", ":sub/data.txt", "+", "fs", "rmdir", ":sub")
    assert r.returncode == 0, r.stderr
    assert back.read_text() == "line one\nline two\n" and not (fs / "sub").exists()
    r = mpremote(path, "fs", "cat", ":nothere.txt")
    assert r.returncode != 0 and "nothere.txt" in (r.stdout + r.stderr)


def test_board_paths_stay_in_its_filesystem(board):
    path, fs = board
    r = mpremote(path, "exec", "f = open('/../../escape.txt', 'w'); f.write('x'); f.close()\n"
                               "import os; print(sorted(os.listdir('/')))")
    assert r.returncode == 0, r.stderr
    assert (fs / "escape.txt").read_text() == "x"
    assert "escape.txt" in r.stdout
    (fs / "escape.txt").unlink()


def test_error_reported_with_board_output(board):
    path, _ = board
    r = mpremote(path, "exec", "print('before'); 1/0")
    assert r.returncode == 1
    assert "before" in r.stdout
    assert "ZeroDivisionError" in r.stdout + r.stderr


def test_soft_reset_clears_globals(board):
    path, _ = board
    r = mpremote(path, "exec", "kept = 5", "+", "resume", "exec", "print(kept)", "+",
                 "soft-reset", "+", "resume", "exec", "print('kept' in globals())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["5", "False"]


def test_soft_reset_clears_frozen_libraries_and_the_ble_object(board):
    """As on a board: aioble's module state and the BLE object's handler are gone, the address stays."""
    path, _ = board
    r = mpremote(path, "exec",
                 "import bluetooth, aioble\n"
                 "aioble.left_behind = 1\n"
                 "ble = bluetooth.BLE(); ble.active(True); ble.irq(print)\n"
                 "print(ble.config('mac')[1].hex())",
                 "+", "soft-reset", "+", "resume", "exec",
                 "import bluetooth, aioble\n"
                 "print(hasattr(aioble, 'left_behind'), bluetooth.BLE().active())\n"
                 "ble = bluetooth.BLE(); ble.active(True)\n"
                 "print(ble.config('mac')[1].hex())\n"
                 "print(ble._events.handler is None)")
    assert r.returncode == 0, r.stderr
    before, flags, after, no_handler = r.stdout.strip().splitlines()[-4:]
    assert flags == "False False"
    assert after == before
    assert no_handler == "True"


def test_irq_handlers_print_while_the_program_prints(board):
    """A handler's print waits for the program's print to finish, as on a board (it used to
    deadlock on the console's lock when the handler interrupted a write)."""
    path, _ = board
    code = (
        "import micropython, _thread, time\n"
        "ran = [0]\n"
        "def cb(_):\n"
        "    print('irq', ran[0])\n"
        "    ran[0] += 1\n"
        "def producer():\n"
        "    sent = 0\n"
        "    while sent < 300:\n"
        "        try:\n"
        "            micropython.schedule(cb, None)\n"
        "            sent += 1\n"
        "        except RuntimeError:\n"
        "            pass  # the schedule queue is full, as on a board: try again\n"
        "        time.sleep(0.0005)\n"
        "_thread.start_new_thread(producer, ())\n"
        "for i in range(2000):\n"
        "    print('main', i)\n"
        "while ran[0] < 300:\n"
        "    time.sleep(0.01)\n"
        "print('done', ran[0])\n"
    )
    r = mpremote(path, "exec", code, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "done 300"
    assert [line for line in lines if line.startswith("main ")] == ["main %d" % i for i in range(2000)]
    assert [line for line in lines if line.startswith("irq ")] == ["irq %d" % i for i in range(300)]
    assert len(lines) == 2301


def test_hard_reset_keeps_the_device_path(board):
    """`mpremote reset` (machine.reset()) restarts the board process on the same pty, as a board on its port."""
    path, _ = board
    r = mpremote(path, "exec", "before_reset = 1", "+", "reset")
    assert r.returncode == 0, r.stderr
    # mpremote (1.29 on) leaves the board to run machine.reset() 100 ms after it returns; a
    # Ctrl-C before then cancels the reset, on a board too. The boot banner says it happened.
    raw = Raw(path)
    try:
        raw.read_until(b">>> ")
    finally:
        raw.close()
    r = mpremote(path, "exec", "import machine; print(machine.reset_cause() == machine.HARD_RESET, 'before_reset' in globals())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False"]


def test_large_program_through_raw_paste(board):
    """mpremote sends exec code in raw-paste mode; 20 kB needs many flow-control windows."""
    path, _ = board
    body = "".join("v%d = %d\n" % (i, i) for i in range(2000))
    r = mpremote(path, "exec", body + "print(sum(globals()['v%d' % i] for i in range(2000)))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sum(range(2000)))


class Raw:
    """The board's serial port opened the way pyboard.py/mpremote open it."""

    def __init__(self, path):
        self.s = serial.Serial(path, 115200, timeout=5)

    def read_until(self, ending):
        data = self.s.read_until(ending)
        assert data.endswith(ending), data
        return data

    def close(self):
        self.s.close()


@pytest.fixture
def raw(board):
    r = Raw(board[0])
    r.s.write(b"\r\x03\x02")  # back to a friendly prompt whatever state the board is in
    # Then a line whose answer differs from its echo: everything before it is old output.
    r.s.write(b"print('rea' + 'dy')\r")
    r.read_until(b"ready\r\n>>> ")
    yield r
    r.s.write(b"\x02")
    r.close()


def test_raw_paste_protocol_bytes(raw):
    raw.s.write(b"\x01")
    raw.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    raw.s.write(b"\x05A\x01")
    head = raw.s.read(4)
    assert head[:2] == b"R\x01"
    window = int.from_bytes(head[2:], "little")
    assert window > 0
    code = b"s = 0\n" + b"s += 1\n" * 100 + b"print(s)\n"  # longer than one window
    raw.s.write(code[:window])
    assert raw.s.read(1) == b"\x01"  # the board grants the next window
    raw.s.write(code[window:] + b"\x04")
    assert raw.read_until(b"\x04").endswith(b"\x04")  # end of data acknowledged
    assert raw.read_until(b"\x04") == b"100\r\n\x04"
    assert raw.read_until(b"\x04") == b"\x04"
    assert raw.s.read(1) == b">"


def test_raw_repl_plain_exec_and_error(raw):
    raw.s.write(b"\x01")
    raw.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    raw.s.write(b"print('hi')\nundefined_name\x04")
    assert raw.s.read(2) == b"OK"
    assert raw.read_until(b"\x04") == b"hi\r\n\x04"
    err = raw.read_until(b"\x04")
    assert b"NameError" in err and b'File "<stdin>", line 2' in err


def test_friendly_repl_interrupt_and_soft_reset(raw, board):
    _, fs = board
    raw.s.write(b"\x02")
    banner = raw.read_until(b">>> ")
    assert b"MicroPython" in banner and b"; bleboard-virtual with Bumble" in banner
    raw.s.write(b"40 + 2\r")
    assert raw.read_until(b">>> ") == b"40 + 2\r\n42\r\n>>> "
    raw.s.write(b"for i in range(2):\r    print(i * 10)\r\r")
    assert raw.read_until(b">>> ").endswith(b"0\r\n10\r\n>>> ")
    raw.s.write(b"import time\r")
    raw.read_until(b">>> ")
    raw.s.write(b"while True: time.sleep(0.05)\r\r")
    raw.read_until(b"... \r\n")
    raw.s.write(b"\x03")
    out = raw.read_until(b">>> ")
    assert b"KeyboardInterrupt" in out
    (fs / "main.py").write_text("print('main.py ran')\n")
    try:
        raw.s.write(b"z = 1\r")
        raw.read_until(b">>> ")
        raw.s.write(b"\x04")
        out = raw.read_until(b">>> ")
        assert b"MPY: soft reboot\r\nmain.py ran\r\n" in out
        raw.s.write(b"'z' in globals()\r")
        assert raw.read_until(b">>> ").endswith(b"False\r\n>>> ")
    finally:
        (fs / "main.py").unlink()


def test_board_survives_client_going_away(board):
    path, _ = board
    s = serial.Serial(path, 115200, timeout=2)
    s.write(b"\x01print('x' * 20000)\x04")  # then vanish without reading the output
    s.close()
    r = mpremote(path, "exec", "print('still here')")
    assert r.returncode == 0 and "still here" in r.stdout


def test_two_boards_talk_over_the_radio_through_mpremote(tmp_path):
    """Two pty boards on one private radio, each driven by mpremote as USB boards would be."""
    from bleboard.testing.radio import PrivateRadio

    scan = tmp_path / "scan.py"
    scan.write_text(
        "import bluetooth, time\n"
        "b = bluetooth.BLE()\n"
        "b.active(True)\n"
        "names = set()\n"
        "def irq(event, data):\n"
        "    if event == 5:  # _IRQ_SCAN_RESULT\n"
        "        adv = bytes(data[4])\n"
        "        if b'pty-A' in adv:\n"
        "            names.add('pty-A')\n"
        "b.irq(irq)\n"
        "b.gap_scan(5000, 30000, 30000)\n"
        "for _ in range(100):\n"
        "    if names:\n"
        "        break\n"
        "    time.sleep_ms(50)\n"
        "b.gap_scan(None)\n"
        "print('seen', sorted(names))\n"
    )
    with PrivateRadio("fast") as radio:
        env = {"BLEBOARD_AIR": radio.addr}
        with pty_board.running_board(fs=str(tmp_path / "a"), env=env) as (a, _), \
                pty_board.running_board(fs=str(tmp_path / "b"), env=env) as (b, _):
            r = mpremote(a, "exec", "import bluetooth\nble = bluetooth.BLE()\nble.active(True)\n"
                                    "ble.gap_advertise(20000, b'\\x02\\x01\\x06\\x06\\x09pty-A')\nprint('advertising')")
            assert r.returncode == 0 and "advertising" in r.stdout, r.stderr
            r = mpremote(b, "run", str(scan))
            assert r.returncode == 0, r.stdout + r.stderr
            assert r.stdout.strip() == "seen ['pty-A']"
