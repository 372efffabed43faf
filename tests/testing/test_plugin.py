"""The pytest plugin: which files become multitest items, and how their outcomes show."""

import shutil

import pytest

from bleboard.testing.instance import InstanceSpec


# Plugins the inner runs do not need; hypothesis alone costs seconds per inner run.
QUIET = ("-p", "bleboard.testing.pytest_plugin", "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:cacheprovider")


@pytest.fixture
def project(pytester, data):
    """A test tree holding a passing, a failing and a skipping multitest, plus look-alikes."""
    multi = pytester.mkdir("data")  # protocol.py checks its directory name
    for name in ("set_next", "traceback", "skip", "protocol"):
        shutil.copy(data / (name + ".py"), multi / (name + ".py"))
        shutil.copy(data / (name + ".py.exp"), multi / (name + ".py.exp"))
    # no .exp: not collected
    shutil.copy(data / "empty.py", multi / "no_expectation.py")
    # .exp but no instances (a single-interpreter test): not collected
    (multi / "single.py").write_text("print(1)\n")
    (multi / "single.py.exp").write_text("1\n")
    return pytester


def test_collects_only_multitests(project):
    result = project.runpytest(*QUIET, "--collect-only", "-q", "--multitest-firmware", "none")
    assert sorted(line for line in result.outlines if "::" in line) == [
        "data/protocol.py::multitest",
        "data/set_next.py::multitest",
        "data/skip.py::multitest",
        "data/traceback.py::multitest",
    ]


def test_firmware_matrix_items(project):
    # By default each multitest also runs paired with MicroPython firmware, both ways round.
    result = project.runpytest(*QUIET, "--collect-only", "-q")
    items = sorted(line for line in result.outlines if line.startswith("data/skip.py::"))
    assert items == [
        "data/skip.py::multitest",
        "data/skip.py::multitest[micropython-btstack|micropython]",
        "data/skip.py::multitest[micropython|virtual]",
        "data/skip.py::multitest[virtual|micropython]",
    ]
    result = project.runpytest(*QUIET, "--collect-only", "-q", "--multitest-firmware", "nimble")
    assert not [line for line in result.outlines if "btstack" in line]
    # Chosen instances replace the matrix.
    result = project.runpytest(*QUIET, "--collect-only", "-q", "--multitest-instance", "cpython")
    assert not [line for line in result.outlines if "micropython" in line]


def test_marker_selects_multitests(project):
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest(*QUIET, "--collect-only", "-q", "-m", "not multitest")
    assert [line for line in result.outlines if "::" in line] == ["test_plain.py::test_plain"]


def test_outcomes_and_failure_diff(project):
    result = project.runpytest(*QUIET, "--multitest-instance", "cpython", "--multitest-instance", "cpython", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    text = result.stdout.str()
    assert "output differs from traceback.py.exp" in text
    assert "### DIFF ###" in text and "+ValueError: instance1 broke" in text
    assert "### TRACE ###" in text and "instance1 %s: one before" % InstanceSpec("cpython").name in text
    result.stdout.fnmatch_lines(["*= multitest metrics =*", "protocol.py: throughput 42"])
    assert "test printed SKIP" in text


def test_bad_instance_option(project):
    result = project.runpytest(*QUIET, "--multitest-instance", "port:")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no device after 'port:'" in result.stderr.str()


def test_multitest_files_are_never_imported_by_pytest(pytester, data):
    # Module-level code of a multitest belongs to its instances; pytest would import a
    # file named test_*.py, or any file named on its command line.
    source = "open('imported-by-pytest', 'w').close()\n" + (data / "set_next.py").read_text()
    for name in ("test_named.py", "explicit.py"):
        pytester.path.joinpath(name).write_text(source)
        pytester.path.joinpath(name + ".exp").write_text((data / "set_next.py.exp").read_text())
    result = pytester.runpytest(*QUIET, "--collect-only", "-q", "--multitest-firmware", "none", "test_named.py",
                                "explicit.py")
    assert sorted(line for line in result.outlines if "::" in line) == ["explicit.py::multitest", "test_named.py::multitest"]
    assert not pytester.path.joinpath("imported-by-pytest").exists()
