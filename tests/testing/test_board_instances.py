"""The multitest runner on boards: instances on serial ports, driven through the raw REPL.

No USB board is attached here, so the boards are the nearest real thing:
virtual boards serving MicroPython's REPL on ptys (`bleboard board`), driven by
mpremote's SerialTransport exactly as /dev/ttyACM0 would be. Boards and
subprocess instances share one private radio, so BLE tests can mix them.
"""

import io
import os
import pathlib
import subprocess
import sys
import textwrap
import threading

import pytest

from bleboard.testing.board_instance import ERROR_PREFIX, resume_script
from bleboard.testing.instance import InstanceError, InstanceSpec
from bleboard.testing.multitest import Runner, run_tests
from bleboard.testing.radio import PrivateRadio
from bleboard.tools import pty_board

pytest.importorskip("mpremote")

HERE = pathlib.Path(__file__).parent
DATA = HERE / "data"
MULTI = HERE.parent / "multi"


@pytest.fixture(scope="module")
def radio():
    with PrivateRadio("fast") as r:
        yield r.addr


@pytest.fixture(scope="module")
def boards(radio):
    """Two pty boards on the private radio: their device paths."""
    env = {"BLEBOARD_AIR": radio}
    with pty_board.running_board(env=env) as (one, _), pty_board.running_board(env=env) as (two, _):
        yield one, two


def specs(*texts):
    return [InstanceSpec(t) for t in texts]


def write_test(tmp_path, name, source, expected=None):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    if expected is not None:
        (tmp_path / (name + ".exp")).write_text(expected)
    return str(path)


def run(radio, paths, instances, timeout=10.0):
    out = io.StringIO()
    with Runner(radio=radio, timeout=timeout, out=out) as runner:
        results = run_tests(runner, [str(p) for p in paths], instances)
    return results, out.getvalue()


@pytest.mark.parametrize(
    "text, device, name",
    [
        ("port:/dev/pts/7", "/dev/pts/7", "7"),
        ("a0", "/dev/ttyACM0", "ttyACM0"),
        ("u12", "/dev/ttyUSB12", "ttyUSB12"),
        ("c3", "COM3", "COM3"),
        ("/dev/ttyACM1", "/dev/ttyACM1", "ttyACM1"),
    ],
)
def test_board_specs(text, device, name):
    spec = InstanceSpec(text)
    assert (spec.kind, spec.device, spec.name, spec.needs_radio) == ("board", device, name, False)


@pytest.mark.parametrize(
    "text, error", [("port:", "no device after 'port:'"), ("a0,X=1", "no environment"), ("b0", "unknown kind")]
)
def test_bad_board_specs(text, error):
    with pytest.raises(InstanceError, match=error):
        InstanceSpec(text)


def test_resume_script_replaces_the_final_call():
    script = "def instance1():\n    pass\ninstance1()\nmultitest.flush()\n"
    assert resume_script(script, "instance1_resume").endswith("\ninstance1_resume()\nmultitest.flush()\n")
    with pytest.raises(Exception, match="must be instanceN"):
        resume_script(script, "os.remove")


def test_broadcasts_between_boards_and_a_subprocess(radio, boards):
    # A token goes round board -> virtual subprocess -> board: stdin of a raw-REPL program.
    one, two = boards
    results, out = run(radio, [DATA / "broadcast3.py"], specs("port:" + one, "virtual", "port:" + two))
    assert results[0].verdict == "pass", out
    assert results[0].instances == "%s|virtual|%s" % (os.path.basename(one), os.path.basename(two))


def test_ble_multitest_on_two_boards(radio, boards):
    one, two = boards
    results, out = run(radio, [MULTI / "ble_gap_connect_disconnect.py"], specs("port:" + one, "port:" + two))
    assert results[0].verdict == "pass", out
    assert "CENTRAL_CONNECT 0 6" in results[0].output and "PERIPHERAL_CONNECT peer" in results[0].output


def test_ble_multitest_board_and_subprocess(radio, boards):
    one, _ = boards
    results, out = run(radio, [MULTI / "ble_gap_connect_disconnect.py"], specs("virtual", "port:" + one))
    assert results[0].verdict == "pass", out


def test_soft_reset_between_tests(radio, boards, tmp_path):
    # Test 1 leaves a global behind and a program that never ends (stopped at TIMEOUT);
    # test 2 on the same board finds neither.
    one, _ = boards
    first = write_test(tmp_path, "first.py", """\
        LEAK = "from the first test"


        def instance0():
            multitest.next()
            print("set", LEAK)
            multitest.wait("never sent")
        """)
    second = write_test(tmp_path, "second.py", """\
        def instance0():
            multitest.next()
            print("left over:", globals().get("LEAK"))
        """, "--- instance0 ---\nleft over: None\n")
    (tmp_path / "first.py.exp").write_text("--- instance0 ---\nset from the first test\n")
    results, out = run(radio, [first, second], specs("port:" + one), timeout=2.0)
    assert results[0].verdict == "fail" and results[0].output.endswith("set from the first test\nTIMEOUT\n"), out
    assert results[1].verdict == "pass", out


def test_board_left_in_its_friendly_repl(radio, boards, tmp_path):
    # After a test the board is as a user expects to find it: a >>> prompt, not the raw REPL.
    from mpremote.transport_serial import SerialTransport

    one, _ = boards
    path = write_test(tmp_path, "hello.py", "def instance0():\n    print('hello')\n", "--- instance0 ---\nhello\n")
    results, out = run(radio, [path], specs("port:" + one))
    assert results[0].verdict == "pass", out
    port = SerialTransport(one, timeout=2)
    try:
        port.serial.write(b"\r")
        assert port.read_until(1, b"\r\n>>> ", timeout=5).endswith(b"\r\n>>> ")
    finally:
        port.close()


def test_reboot_resumes_the_test(radio, boards, tmp_path):
    one, two = boards
    path = write_test(tmp_path, "reboot.py", """\
        import machine


        def instance0():
            multitest.next()
            print("before reset")
            multitest.expect_reboot("instance0_resume", 100)
            machine.reset()


        def instance0_resume():
            print("resumed after a hard reset:", machine.reset_cause() == machine.HARD_RESET)
            multitest.broadcast("back")


        def instance1():
            multitest.next()
            multitest.wait("back")
            print("instance0 is back")
        """, "--- instance0 ---\nbefore reset\nWAIT_FOR_REBOOT instance0_resume 100\n"
             "resumed after a hard reset: True\n--- instance1 ---\ninstance0 is back\n")
    results, out = run(radio, [path], specs("port:" + two, "virtual"))
    assert results[0].verdict == "pass", out


def test_port_vanishing_mid_test(radio, tmp_path):
    # The board goes away while its program runs: that test fails saying so, the next
    # test on the missing port fails at once, and the runner ends with nothing left behind.
    threads = threading.active_count()
    with pty_board.running_board(env={"BLEBOARD_AIR": radio}) as (path, proc):
        vanish = write_test(tmp_path, "vanish.py", """\
            import os
            import signal


            def instance0():
                multitest.next()
                print("board up")
                multitest.broadcast("pull the plug")
                multitest.wait("never sent")


            def instance1():
                multitest.next()
                multitest.wait("pull the plug")
                os.kill(%d, signal.SIGKILL)
                print("unplugged")
            """ % proc.pid, "--- instance0 ---\nboard up\n--- instance1 ---\nunplugged\n")
        after = write_test(tmp_path, "after.py", "def instance0():\n    print('hello')\n", "--- instance0 ---\nhello\n")
        results, out = run(radio, [vanish, after], specs("port:" + path, "cpython"))
        proc.wait(10)
    first, second = results
    lines = first.output.splitlines()
    assert first.verdict == "fail" and lines[:2] == ["--- instance0 ---", "board up"], out
    assert lines[2].startswith(ERROR_PREFIX + path + ": the port went away while the test ran"), out
    assert second.verdict == "fail"
    assert (ERROR_PREFIX + path + ": cannot open the port") in second.output, out
    assert threading.active_count() == threads  # every board worker has ended


def test_cli_mixes_a_board_and_a_virtual_instance(radio, boards):
    one, _ = boards
    cmd = [sys.executable, "-m", "bleboard", "test", "--radio", radio, "--instance", "port:" + one,
           "--instance", "virtual", str(MULTI / "ble_gap_connect_disconnect.py")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ble_gap_connect_disconnect.py on %s|virtual: pass" % os.path.basename(one) in proc.stdout
    assert "1 tests passed" in proc.stdout


def test_announced_reboot_that_never_comes(radio, boards, tmp_path):
    one, _ = boards
    path = write_test(tmp_path, "noreboot.py", """\
        def instance0():
            multitest.next()
            multitest.expect_reboot("instance0_resume", 0)
            print("but carries on")
        """, "--- instance0 ---\nWAIT_FOR_REBOOT instance0_resume 0\n")
    results, out = run(radio, [path], specs("port:" + one))
    assert results[0].output.splitlines()[1:] == [
        "WAIT_FOR_REBOOT instance0_resume 0",
        ERROR_PREFIX + one + ": the program ended after WAIT_FOR_REBOOT without rebooting the board",
    ], out


class Replug(io.StringIO):
    """The runner's live trace; when the board announces its reboot, unplug it and plug in another.

    The unplugging is the first board's process dying (its pty goes away); the port's
    name is a symlink that is then pointed at the second board, as a USB board comes
    back under the same name.
    """

    def __init__(self, proc, link, second):
        super().__init__()
        self.proc, self.link, self.second = proc, link, second

    def write(self, text):
        if "WAIT_FOR_REBOOT" in text and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            staged = self.link.with_name("staged")
            staged.symlink_to(self.second)
            os.replace(staged, self.link)
        return super().write(text)


def test_reboot_onto_a_port_that_comes_back(radio, tmp_path):
    env = {"BLEBOARD_AIR": radio}
    with pty_board.running_board(env=env) as (first, proc), pty_board.running_board(env=env) as (second, _):
        link = tmp_path / "ttyBOARD"
        link.symlink_to(first)
        path = write_test(tmp_path, "replug.py", """\
            def instance0():
                multitest.next()
                print("before reset")
                multitest.expect_reboot("instance0_resume", 0)
                multitest.wait("the reset")  # a board would reset here


            def instance0_resume():
                print("resumed")
            """, "--- instance0 ---\nbefore reset\nWAIT_FOR_REBOOT instance0_resume 0\nresumed\n")
        out = Replug(proc, link, second)
        with Runner(radio=radio, out=out, trace=True) as runner:
            results = run_tests(runner, [path], specs("port:%s" % link))
    assert proc.returncode is not None and os.readlink(link) == second
    assert results[0].verdict == "pass", out.getvalue()
