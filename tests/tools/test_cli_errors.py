"""Every error a newcomer can meet, through the installed `bleboard` console script.

The rule (docs/cli.md): one line on stderr, `bleboard CMD: what is wrong`, no
traceback; exit 2 for a usage error, 1 for a failure, 130 after Ctrl-C.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bleboard.radio import default

SCRIPT = os.path.join(os.path.dirname(sys.executable), "bleboard")
if not os.path.exists(SCRIPT):
    SCRIPT = shutil.which("bleboard") or SCRIPT
RADIO_VARS = ("BLEBOARD_ADDRESS", "BLEBOARD_HCI", "BLEBOARD_SNOOP", "BLEBOARD_AIR", "BLEBOARD_LATENCY")
ACTIVATE = "import bluetooth; bluetooth.BLE().active(True); print('on the air')"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in RADIO_VARS}
    env.update(extra)
    return env


def bleboard(*argv, env=None, timeout=60):
    assert os.path.exists(SCRIPT), f"the console script is not installed beside {sys.executable}"
    return subprocess.run([SCRIPT, *argv], capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env(), stdin=subprocess.DEVNULL)


def one_line(r, command):
    """The error output is exactly one line naming the command."""
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bleboard {command}: "), r.stderr
    return lines[0]


def test_malformed_address_is_a_usage_error():
    r = bleboard("run", "-c", ACTIVATE, env=clean_env(BLEBOARD_ADDRESS="nonsense"))
    assert r.returncode == 2 and r.stdout == ""
    assert one_line(r, "run") == ("bleboard run: BLEBOARD_ADDRESS='nonsense' is not a board address: "
                                  "give six hex bytes like 00:B0:0D:00:00:01")


def test_snoop_into_a_missing_directory():
    r = bleboard("run", "--snoop", "/nonexistent/dir/x", "-c", ACTIVATE)
    assert r.returncode == 2 and r.stdout == ""
    assert one_line(r, "run") == "bleboard run: --snoop /nonexistent/dir/x: directory /nonexistent/dir does not exist"


def test_snoop_naming_a_directory(tmp_path):
    r = bleboard("run", "-c", ACTIVATE, env=clean_env(BLEBOARD_SNOOP=str(tmp_path)))
    assert r.returncode == 2
    assert one_line(r, "run") == (
        f"bleboard run: BLEBOARD_SNOOP {tmp_path}: is a directory; give a file name for the btsnoop capture"
    )


def test_controller_not_plugged_in_is_a_failure():
    r = bleboard("run", "--hci", "serial:/dev/nonexistent", "-c", ACTIVATE)
    assert r.returncode == 1 and "on the air" not in r.stdout
    line = one_line(r, "run")
    assert line.startswith("bleboard run: cannot open the radio: ") and "/dev/nonexistent" in line


def test_program_handling_the_missing_controller_keeps_control():
    """Only an unhandled failure to open the radio is reported for the program."""
    code = ("import bluetooth\ntry:\n    bluetooth.BLE().active(True)\nexcept OSError as e:\n"
            "    print('handled', e.errno)\n")
    r = bleboard("run", "--hci", "serial:/dev/nonexistent", "-c", code)
    assert r.returncode == 0 and r.stdout == "handled 19\n" and r.stderr == ""


def test_malformed_hci_spec():
    r = bleboard("run", "-c", "pass", env=clean_env(BLEBOARD_HCI="bogus:1"))
    assert r.returncode == 2
    assert one_line(r, "run").startswith("bleboard run: BLEBOARD_HCI: unknown HCI transport 'bogus'")


def test_closed_pipe_is_quiet():
    """`bleboard boards | head`: the reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([SCRIPT, "boards"], stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=60, env=clean_env())
    finally:
        os.close(write_end)
    assert proc.returncode == 1 and proc.stderr == ""


def test_usage_errors_are_one_line_exit_2(tmp_path):
    r = bleboard("flash")
    assert r.returncode == 2
    assert one_line(r, "flash") == ("bleboard flash: the following arguments are required: --board, firmware "
                                    "(see 'bleboard flash --help')")
    r = bleboard("nosuchcommand")
    assert r.returncode == 2 and r.stderr.startswith("bleboard: unknown command 'nosuchcommand'; commands: run, ")
    r = bleboard("freeze", "--board", "no_such_board_at_all")
    assert r.returncode == 2 and "unknown board" in one_line(r, "freeze")
    r = bleboard("demo", "--timeout", "0")
    assert r.returncode == 2 and one_line(r, "demo") == "bleboard demo: --timeout must be a positive number of seconds, got 0"
    r = bleboard("demo", env=clean_env(BLEBOARD_ADDRESS="zz"))
    assert r.returncode == 2 and "BLEBOARD_ADDRESS='zz' is not a board address" in one_line(r, "demo")


def test_directory_given_as_firmware(tmp_path):
    r = bleboard("flash", "--board", "RPI_PICO_W", str(tmp_path))
    assert r.returncode == 2
    assert one_line(r, "flash") == f"bleboard flash: firmware {str(tmp_path)!r} is a directory, not a firmware file"


def test_missing_devices_are_failures(tmp_path):
    r = bleboard("repl", "--port", "/dev/ttyNOPE9")
    assert r.returncode == 1 and "no such serial port" in one_line(r, "repl")
    r = bleboard("board", "--hci", "bogus:1")
    assert r.returncode == 2 and "unknown HCI transport" in one_line(r, "board")


def test_help_lists_every_command_and_version():
    from bleboard.cli import COMMANDS

    r = bleboard("--help")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    for name in COMMANDS:
        row = [line for line in lines if line.split()[:1] == [name]]
        assert len(row) == 1 and len(row[0].split()) > 2, (name, row)  # the name, then its one-line summary
    assert any(line.split()[:1] == ["--version"] for line in lines)
    r = bleboard("--version")
    assert r.returncode == 0 and r.stdout.startswith("bleboard ")
    r = bleboard()
    assert r.returncode == 2 and "commands:" in r.stderr


@pytest.fixture
def private_radio(tmp_path):
    """A default radio of this test's own (the demo starts it), gone when the test ends."""
    env = clean_env(BLEBOARD_RUNTIME_DIR=str(tmp_path / "rt"), BLEBOARD_AIR_IDLE_EXIT="1")
    yield env
    # The radio exits one idle second after its last board and removes its socket; probing
    # it would count as a client and keep it up, so watch the socket file instead.
    sock = os.path.join(env["BLEBOARD_RUNTIME_DIR"], default.SOCKET_NAME)
    deadline = time.monotonic() + 60
    while os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(sock), "the demo's radio is still up: a board outlived the demo"


def test_demo_timeout_says_what_timed_out(private_radio):
    r = bleboard("demo", "--timeout", "0.5", env=private_radio)
    assert r.returncode == 1
    line = one_line(r, "demo")
    assert line.startswith("bleboard demo: timed out after 0.5 s (--timeout): ")
    assert "peripheral still running" in line and "central still running" in line


def test_ctrl_c_in_demo(private_radio):
    proc = subprocess.Popen([SCRIPT, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=private_radio, start_new_session=True)
    try:
        assert select.select([proc.stdout], [], [], 30)[0], "the demo printed nothing"
        first = proc.stdout.readline()  # a board is up and printing
        assert first.startswith(("[peripheral] ", "[central   ] ")), first
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole group
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the demo and its boards
            proc.wait()
    assert proc.returncode == 130
    assert err == "bleboard demo: interrupted\n"
    assert "Traceback" not in out
    with pytest.raises(ProcessLookupError):  # no board of the demo outlives it
        os.killpg(proc.pid, 0)
