"""Multitests on virtual boards (`bleboard run`) joined by a private `bleboard air` radio."""

import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bleboard.testing.instance import InstanceSpec
from bleboard.testing.multitest import Runner
from procs import alive

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bleboard.radio.air_cmd") is None, reason="bleboard air is not written yet"
)


def test_virtual_boards_on_private_radio(data):
    with Runner(out=io.StringIO(), latency="fast") as runner:
        for name in ("broadcast3", "protocol", "set_next"):
            result = runner.run_test(str(data / (name + ".py")), [])
            assert result.names == ["virtual"] * len(result.names)
            assert result.verdict == "pass", result.failure_report()
        radio = runner._radio
        sock, pid = radio.addr[len("unix:") :], radio.pid
        assert os.path.exists(sock) and alive(pid)
        os.kill(pid, signal.SIGKILL)  # a radio that dies is replaced for the next test
        radio._proc.wait(timeout=30)
        environment = runner.run_test(str(data / "env.py"), [InstanceSpec("virtual"), InstanceSpec("virtual,TAG=b")])
        assert "--- instance1 ---\nTAG b False False\n" in environment.output
        assert runner._radio.pid != pid
        sock, pid = runner._radio.addr[len("unix:") :], runner._radio.pid
    assert not alive(pid) and not os.path.exists(sock)


def test_private_radio_outlives_a_killed_runner_only_briefly():
    # SIGKILL leaves no chance to clean up; the server notices its keep-alive client is gone.
    code = (
        "import os, signal\n"
        "from bleboard.testing.radio import PrivateRadio\n"
        "radio = PrivateRadio('fast')\n"
        "radio.start()\n"
        "print(radio.pid, radio.addr, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    pid, addr = out.stdout.split()
    deadline = time.monotonic() + 30
    while alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(int(pid))
    sock = addr[len("unix:") :]
    assert not os.path.exists(sock)
    shutil.rmtree(os.path.dirname(sock))  # what the killed runner would have removed
