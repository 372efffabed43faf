"""pytest plugin: every multitest file (FILE.py with a sibling FILE.py.exp and
`def instanceN():` lines) becomes one test item run on virtual boards, plus
one item per pairing with real MicroPython firmware (the matrix below).

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

# Pairings with MicroPython's unix firmware, each run as its own item (instances
# beyond the second are virtual boards). (virtual, virtual) is the plain item.
MATRIX = (
    ("micropython", "virtual"),
    ("virtual", "micropython"),
    ("micropython-btstack", "micropython"),
)
_MATRIX_CHOICES = ("all", "nimble", "none")
FIRMWARE_TIMEOUT = 30.0  # s of silence before a firmware pairing is declared stuck

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
        "--multitest-firmware",
        choices=_MATRIX_CHOICES,
        default="all",
        help="pairings with real MicroPython firmware to add to each multitest: all (default), nimble "
        "(no BTstack pairing) or none; ignored when --multitest-instance is given",
    )
    group.addoption(
        "--multitest-timeout", type=float, default=TIMEOUT, metavar="S", help="seconds of silence before TIMEOUT"
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "multitest: a multi-instance test file run by the bleboard runner")
    config.addinivalue_line("markers", "firmware: runs real MicroPython firmware (built on first use, cached)")
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


def matrix(config):
    """The firmware pairings this session adds to every multitest."""
    if config.getoption("multitest_instance"):
        return ()  # the user chose the instances
    choice = config.getoption("multitest_firmware")
    if choice == "none":
        return ()
    return tuple(m for m in MATRIX if choice == "all" or "micropython-btstack" not in m)


class MultitestFile(pytest.File):
    def collect(self):
        item = MultitestItem.from_parent(self, name="multitest")
        item.add_marker("multitest")
        yield item
        for kinds in matrix(self.config):
            item = MultitestItem.from_parent(self, name="multitest[%s]" % "|".join(kinds), kinds=kinds)
            item.add_marker("multitest")
            item.add_marker("firmware")
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
    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = tuple(kinds)  # instance kinds of a matrix item; () for the session's kinds

    def runtest(self):
        specs = [InstanceSpec(k) for k in self.kinds] if self.kinds else self.config.stash[_SPECS]
        runner = _runner(self.config)
        timeout = runner.timeout
        if self.kinds:
            # Real stacks pace L2CAP by their own credit policy on board-like link timing: NimBLE
            # grants one SDU at a time, so a 30 KB transfer takes longer than the usual silence.
            runner.timeout = max(timeout, FIRMWARE_TIMEOUT)
        try:
            result = runner.run_test(str(self.path), specs)
        except InstanceError as exc:
            from bleboard.testing.firmware_instance import FirmwareUnavailable

            if isinstance(exc, FirmwareUnavailable):
                pytest.skip(str(exc))
            raise
        finally:
            runner.timeout = timeout
        for metric in result.metrics:
            self.user_properties.append(("metric", metric))
            self.config.stash[_METRICS].append("%s: %s" % (self.path.name, metric))
        if result.skip_directive:
            pytest.skip("not run on %s: %s" % (result.instances, result.skip_directive))
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
