"""Multitests on virtual boards (`bleboard run`) joined by a private `bleboard air` radio."""

import importlib.util
import io
import os

import pytest

from bleboard.testing.instance import InstanceSpec
from bleboard.testing.multitest import Runner
from conftest import alive

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
        sock = radio.addr[len("unix:") :]
        assert os.path.exists(sock) and alive(radio.pid)
        environment = runner.run_test(str(data / "env.py"), [InstanceSpec("virtual"), InstanceSpec("virtual,TAG=b")])
        assert "--- instance1 ---\nTAG b False False\n" in environment.output
    assert not alive(radio.pid) and not os.path.exists(sock)
