"""`bleboard test` as a user runs it: exit status, summary, _results.json, Ctrl-C."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from bleboard.testing.instance import InstanceSpec
from procs import alive


def bleboard_test(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "bleboard", "test", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_pass_exit_zero_and_no_results_file_by_default(data, tmp_path):
    out = bleboard_test("-i", "cpython", "-i", "cpython", str(data / "set_next.py"), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.endswith("1 tests performed\n1 tests passed\n")
    assert os.listdir(tmp_path) == []
    assert not (data / "_results.json").exists()


def test_failure_exit_one_and_results_json(data, tmp_path):
    files = [str(data / n) for n in ("set_next.py", "traceback.py", "skip.py")]
    out = bleboard_test("-t", "cpython", "-t", "cpython", "-r", str(tmp_path / "res"), *files)
    assert out.returncode == 1
    assert "### TEST ###" in out.stdout and "### DIFF ###" in out.stdout
    assert out.stdout.endswith(
        "3 tests performed\n1 tests passed\n1 tests skipped: %s\n1 tests failed: %s\n" % (files[2], files[1])
    )
    results = json.loads((tmp_path / "res" / "_results.json").read_text())
    assert results["results"] == [[files[0], "pass", ""], [files[1], "fail", ""], [files[2], "skip", ""]]
    assert results["failed_tests"] == [files[1]]
    assert results["ignored_tests"] == []
    assert results["args"]["instance"] == ["cpython", "cpython"]


def test_timeout_option(data):
    out = bleboard_test("-i", "cpython", "-i", "cpython", "--timeout", "2", str(data / "silent_setup.py"))
    assert out.returncode == 1
    assert "+TIMEOUT\n" in out.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["-i", "port:"], "no device after 'port:'"),
        (["-i", "bogus"], "unknown kind"),
        (["-p", "0"], "--permutations must be at least 1"),
        (["--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_usage_errors(data, args, message):
    out = bleboard_test(*args, str(data / "empty.py"))
    assert out.returncode == 2 and message in out.stderr


def test_missing_file():
    out = bleboard_test("-i", "cpython", "/nonexistent/x.py")
    assert out.returncode == 2 and "/nonexistent/x.py: no such file" in out.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_ends_every_instance(data, sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bleboard", "test", "-c", "-i", "cpython", "-i", "cpython", str(data / "silent.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = None
        for line in proc.stdout:  # the trace shows each line as it arrives
            if ": pids " in line:
                pids = [int(p) for p in line.split(": pids ")[1].split()]
            if pids and "instance1" in line and line.endswith(": NEXT\n"):
                break
        assert pids and all(alive(p) for p in pids)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + sig)
    for pid in pids:
        assert not alive(pid)


@pytest.mark.parametrize("value", ["slow", "-1", "nan"])
def test_bad_latency(data, value):
    out = bleboard_test("--latency", value, str(data / "empty.py"))
    assert out.returncode == 2
    assert "latency must be 'board', 'fast' or a number of milliseconds, not %r" % value in out.stderr


def test_directory_runs_its_multitests(tmp_path, data):
    for name in ("set_next.py", "set_next.py.exp", "empty.py", "empty.py.exp"):
        shutil.copy(data / name, tmp_path / name)
    (tmp_path / "helper.py").write_text("def helper():\n    pass\n")  # not a multitest
    out = bleboard_test("-i", "cpython", "-i", "cpython", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[:2] == [
        "%s on %s|%s: pass" % (tmp_path / name, InstanceSpec("cpython").name, InstanceSpec("cpython").name)
        for name in ("empty.py", "set_next.py")
    ]
    empty = tmp_path / "none"
    empty.mkdir()
    out = bleboard_test(str(empty))
    assert out.returncode == 2 and "no multitest files in this directory" in out.stderr
