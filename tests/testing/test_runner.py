"""The runner against non-BLE multitests on real CPython subprocesses (spec §7.4-7.5)."""

import io
import shutil
import sys

import pytest

from bleboard.testing.instance import InstanceError, InstanceSpec
from bleboard.testing.multitest import Runner, run_tests, summary
from procs import alive

SHORT = 2.0  # silence timeout for the tests that provoke one (the default stays 10 s)


def specs(*texts):
    return [InstanceSpec(t) for t in texts]


@pytest.fixture
def runner():
    with Runner(out=io.StringIO()) as r:
        yield r


@pytest.fixture
def impatient():
    """A runner for tests that provoke a TIMEOUT, so they need not wait the default 10 s."""
    with Runner(out=io.StringIO(), timeout=SHORT) as r:
        yield r


def run(runner, path, *kinds):
    return runner.run_test(str(path), specs(*(kinds or ("cpython", "cpython", "cpython"))))


@pytest.mark.parametrize(
    "name", ["set_next", "broadcast3", "protocol", "empty", "early_exit", "stdin_format", "helpers"]
)
def test_passing_multitests(runner, data, name):
    result = run(runner, data / (name + ".py"))
    assert result.verdict == "pass", result.failure_report()
    assert result.output == (data / (name + ".py.exp")).read_text()


def test_set_globals_reach_later_instances(runner, data):
    result = run(runner, data / "set_next.py")
    assert "one got (7, b'\\x01\\x02') zero" in result.output
    assert len(result.names) == 2  # the instance count comes from the file, not the list


def test_broadcast_metric_and_noise_not_recorded(runner, data):
    result = run(runner, data / "protocol.py")
    assert "BROADCAST" not in result.output
    assert "OUTPUT_METRIC" not in result.output and result.metrics == ["throughput 42"]
    assert "USB Path" not in result.output and "libusb" not in result.output


def test_skip_stops_start_up(runner, data):
    result = run(runner, data / "skip.py")
    assert result.verdict == "skip"
    assert result.output == "--- instance0 ---\nchecking\n--- instance1 ---\n\n"
    assert len(result.pids) == 1  # instance1 never started


def test_traceback_fails_with_diff(runner, data):
    result = run(runner, data / "traceback.py")
    assert result.verdict == "fail"
    report = result.failure_report()
    test, rest = report.split("### TRUTH ###\n")
    truth, diff = rest.split("### DIFF ###\n")
    assert test == "### TEST ###\n" + result.output
    assert truth == result.expected
    assert "-one after\n" in diff and "+ValueError: instance1 broke\n" in diff
    assert diff.startswith("--- %s.exp\n+++ " % (data / "traceback.py"))


def test_silent_instance_times_out_and_everything_is_killed(impatient, data):
    result = run(impatient, data / "silent.py")
    assert result.verdict == "fail"
    lines = result.output.splitlines()
    assert lines[:3] == ["--- instance0 ---", "zero done", "--- instance1 ---"]
    assert lines[4] == "TIMEOUT"
    pids = [int(p) for p in lines[3].split()[1:]]
    assert pids[0] == result.pids[1]
    for pid in pids + result.pids:
        assert not alive(pid)


def test_silence_before_next_stops_start_up(impatient, data):
    result = run(impatient, data / "silent_setup.py")
    assert result.verdict == "fail"
    assert result.output == "--- instance0 ---\nzero starting\nTIMEOUT\n--- instance1 ---\n\n"
    assert len(result.pids) == 1 and not alive(result.pids[0])


def test_exec_instance_with_own_environment(runner, data, wrapper):
    result = run(runner, data / "env.py", "exec:%s,TAG=a" % wrapper, "cpython,TAG=b")
    assert result.verdict == "pass", result.failure_report()
    assert result.names == ["py-wrapper.sh", InstanceSpec("cpython").name]


def test_exec_wrapper_grandchildren_are_killed(impatient, data, wrapper):
    # The instance process is the shell; the Python running the test is its child.
    result = run(impatient, data / "silent.py", "cpython", "exec:" + wrapper)
    assert "TIMEOUT" in result.output
    pids = [int(p) for p in result.output.splitlines()[3].split()[1:]]
    assert pids[0] != result.pids[1]
    for pid in pids + result.pids:
        assert not alive(pid)


def test_inherited_environment_by_default(runner, data, monkeypatch):
    monkeypatch.setenv("TAG", "a")
    result = run(runner, data / "env.py")
    assert "TAG a True" in result.output and "TAG a False" not in result.output


def test_missing_exp_uses_cpython_as_truth(runner, data, tmp_path):
    shutil.copy(data / "set_next.py", tmp_path / "t.py")
    assert run(runner, tmp_path / "t.py").verdict == "pass"
    shutil.copy(data / "env.py", tmp_path / "e.py")
    result = run(runner, tmp_path / "e.py", "cpython,TAG=a", "cpython,TAG=b")
    assert result.verdict == "fail"
    assert "TAG None True" in result.expected


def test_permutations_reorder_instances(data):
    out = io.StringIO()
    with Runner(out=out) as r:
        results = run_tests(r, [str(data / "env.py")], specs("cpython,TAG=a", "cpython,TAG=b"), permutations=5)
    assert [x.verdict for x in results] == ["pass", "fail"]  # only 2 orderings exist
    assert "--- instance0 ---\nTAG b False False\n" in results[1].output
    text = out.getvalue()
    assert text.count("env.py on python") == 2 or text.count("env.py on ") == 2
    assert "### DIFF ###" in text
    assert summary(results) == "2 tests performed\n1 tests passed\n1 tests failed: %s\n" % (data / "env.py")


def test_console_lines_and_metrics(data):
    out = io.StringIO()
    with Runner(out=out, show_output=True) as r:
        results = run_tests(r, [str(data / "protocol.py"), str(data / "skip.py")], specs("cpython", "cpython"))
    text = out.getvalue()
    name = InstanceSpec("cpython").name
    assert "%s on %s|%s: pass\n" % (data / "protocol.py", name, name) in text
    assert "%s: throughput 42\n" % (data / "protocol.py") in text
    assert "%s on %s|%s: skip\n" % (data / "skip.py", name, name) in text
    assert results[0].output in text  # -s shows the output
    assert summary(results).endswith("1 tests skipped: %s\n" % (data / "skip.py"))


def test_trace_output(data):
    out = io.StringIO()
    with Runner(out=out, trace=True) as r:
        r.run_test(str(data / "set_next.py"), specs("cpython", "cpython"))
    text = out.getvalue()
    assert "instance0 " in text and ": SET SECRET = (7, b'\\x01\\x02')\n" in text and ": NEXT\n" in text


@pytest.mark.parametrize(
    "text, error",
    [
        ("port:", "no device after"),
        ("a0,VAR=1", "no environment"),
        ("unknown", "unknown kind"),
        ("exec:", "unknown kind"),
        ("cpython,NOEQUALS", "not VAR=VAL"),
    ],
)
def test_bad_instance_specs(text, error):
    with pytest.raises(InstanceError, match=error):
        InstanceSpec(text)


def test_exec_command_not_found(runner, data, tmp_path):
    with pytest.raises(InstanceError, match="cannot start"):
        run(runner, data / "empty.py", "cpython", "exec:%s" % (tmp_path / "nope"))


def test_not_a_multitest(runner, tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("print(1)\n")
    with pytest.raises(ValueError, match="not a multitest"):
        run(runner, path)


def test_exited_instance_is_finished_though_its_child_holds_the_pipe(runner, data):
    result = run(runner, data / "lingering.py")
    assert "TIMEOUT" not in result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["--- instance0 ---", "zero done", "--- instance1 ---", lines[3]]
    child = int(lines[3].split()[1])
    assert len(lines) == 4 and not alive(child)


@pytest.mark.parametrize(
    "kinds, expected",
    [
        (("cpython", "cpython"), "unix:/given 1|unix:/given 1"),
        (("virtual,A=1", "cpython,A=1"), "unix:/given None|None None"),
        (("virtual", "exec:%s" % sys.executable), "unix:/given 1|unix:/given 1"),
    ],
)
def test_radio_address_reaches_instances(data, kinds, expected):
    with Runner(radio="unix:/given", out=io.StringIO()) as r:
        result = r.run_test(str(data / "air_env.py"), specs(*kinds))
    lines = result.output.splitlines()
    assert [lines[1], lines[3]] == expected.split("|")


def test_write_to_an_instance_that_never_reads_gives_up(tmp_path):
    # Broadcasts to an instance that never reads stdin must not hang the runner once its pipe is full.
    inst = InstanceSpec("cpython").make()
    inst.start("import time; print('up', flush=True); time.sleep(600)", str(tmp_path))
    try:
        assert inst.readline(60) == "up"
        inst.write("BROADCAST x\r\n" * 100000, timeout=0.2)  # 1.3 MB, far more than a pipe holds
    finally:
        inst.kill()
    assert not alive(inst.pid)


def test_every_instance_is_made_before_the_first_starts(runner, data, monkeypatch):
    # Making an instance may build firmware (minutes); a started instance meanwhile would
    # wait on a peer that is not there yet and time out.
    events = []
    original = InstanceSpec.make

    def make(spec, radio_addr=None):
        events.append("make")
        inst = original(spec, radio_addr)
        start = inst.start

        def logged_start(*args):
            events.append("start")
            return start(*args)

        inst.start = logged_start
        return inst

    monkeypatch.setattr(InstanceSpec, "make", make)
    result = run(runner, data / "set_next.py", "cpython", "cpython")
    assert result.verdict == "pass", result.failure_report()
    assert events == ["make", "make", "start", "start"]
