"""pytest plugin: every multitest file (FILE.py with a sibling FILE.py.exp and
`def instanceN():` lines) becomes one test item run on virtual boards.

The files are not Python test modules, so pytest's own collection must not
import them: they are not named test_*.py, and this plugin collects them as
plain files. One private radio serves the whole session (each pytest process,
if tests are spread over several, has its own); it starts with the first
virtual instance and stops at the end of the session.
"""

import pytest

from bleboard.testing.instance import KINDS, InstanceError, InstanceSpec
from bleboard.testing.multitest import TIMEOUT, Runner
from bleboard.testing.radio import latency_arg
from bleboard.testing.script import count_instances

_RUNNER = pytest.StashKey()
_SPECS = pytest.StashKey()
_METRICS = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup("bleboard", "bleboard multitests (FILE.py + FILE.py.exp)")
    group.addoption(
        "--multitest-instance",
        action="append",
        default=[],
        metavar="KIND",
        help="instance kind for instance 0, 1, ... (repeat; default virtual): %s, optionally ,VAR=VAL,..."
        % ", ".join(KINDS),
    )
    group.addoption(
        "--multitest-latency",
        type=latency_arg,
        default="board",
        metavar="board|fast|MS",
        help="link timing of the private radio (default: board)",
    )
    group.addoption("--multitest-radio", metavar="ADDR", default=None, help="use this radio instead of a private one")
    group.addoption(
        "--multitest-timeout", type=float, default=TIMEOUT, metavar="S", help="seconds of silence before TIMEOUT"
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "multitest: a multi-instance test file run by the bleboard runner")
    try:
        config.stash[_SPECS] = [InstanceSpec(text) for text in config.getoption("multitest_instance")]
        config.stash[_METRICS] = []
    except InstanceError as exc:
        raise pytest.UsageError("--multitest-instance: %s" % exc) from None


def pytest_unconfigure(config):
    runner = config.stash.get(_RUNNER, None)
    if runner is not None:
        runner.close()
        del config.stash[_RUNNER]


def pytest_terminal_summary(terminalreporter, config):
    metrics = config.stash.get(_METRICS, None)
    if metrics:
        terminalreporter.section("multitest metrics")
        for line in metrics:
            terminalreporter.write_line(line)


def _runner(config):
    """The session's runner, created on first use (the radio starts later still, when needed)."""
    runner = config.stash.get(_RUNNER, None)
    if runner is None:
        runner = Runner(
            radio=config.getoption("multitest_radio"),
            latency=config.getoption("multitest_latency"),
            timeout=config.getoption("multitest_timeout"),
        )
        config.stash[_RUNNER] = runner
    return runner


def is_multitest(path):
    """A FILE.py with a sibling FILE.py.exp and at least one `def instanceN():` line."""
    if path.suffix != ".py" or not path.with_name(path.name + ".exp").is_file():
        return False
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return count_instances(source) > 0  # else a single-interpreter test with expected output


def pytest_collect_file(file_path, parent):
    if is_multitest(file_path):
        return MultitestFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    # pytest imports any .py named on its command line; a multitest's module code
    # (BLE set-up) must only ever run inside its instances.
    if is_multitest(module_path):
        return _NotAModule.from_parent(parent, path=module_path)
    return None


class MultitestFile(pytest.File):
    def collect(self):
        item = MultitestItem.from_parent(self, name="multitest")
        item.add_marker("multitest")
        yield item


class _NotAModule(pytest.File):
    """Stands in for the Python module pytest would otherwise import; collects nothing."""

    def collect(self):
        return []


class MultitestFailed(Exception):
    """The output differed from FILE.py.exp; carries the result for the report."""

    def __init__(self, result):
        super().__init__(result.path)
        self.result = result


class MultitestItem(pytest.Item):
    def runtest(self):
        result = _runner(self.config).run_test(str(self.path), self.config.stash[_SPECS])
        for metric in result.metrics:
            self.user_properties.append(("metric", metric))
            self.config.stash[_METRICS].append("%s: %s" % (self.path.name, metric))
        if result.verdict == "skip":
            pytest.skip("test printed SKIP on %s" % result.instances)
        if result.verdict == "fail":
            raise MultitestFailed(result)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MultitestFailed):
            result = excinfo.value.result
            return "multitest %s on %s: output differs from %s.exp\n%s### TRACE ###\n%s" % (
                self.path.name,
                result.instances,
                self.path.name,
                result.failure_report(),
                result.trace,
            )
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, "multitest %s" % self.path.name
