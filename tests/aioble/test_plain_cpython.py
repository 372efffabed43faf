"""aioble inside an ordinary CPython asyncio program (not `bleboard run`): the same
multitests, with both instances plain `python3` processes on the runner's radio.
ThreadSafeFlag then comes from bleboard.runtime, irqs from the port's scheduler."""

import io
import pathlib

import pytest

from bleboard.testing.instance import InstanceSpec
from bleboard.testing.multitest import Runner

MULTI = pathlib.Path(__file__).resolve().parents[1] / "multi"


@pytest.fixture(scope="module")
def runner():
    with Runner(out=io.StringIO()) as r:
        yield r


@pytest.mark.parametrize("name", ["aioble_gatt", "aioble_notify_both_ways"])
def test_multitest_on_plain_cpython(runner, name):
    path = MULTI / (name + ".py")
    result = runner.run_test(str(path), [InstanceSpec("cpython"), InstanceSpec("cpython")])
    assert result.verdict == "pass", result.failure_report()
    assert result.output == (MULTI / (name + ".py.exp")).read_text()
