"""The multitest runner: start the instances of a test, relay their protocol, judge the output.

Implements spec/bluetooth.md §7.4-7.5: a staggered start (each instance runs its
set-up and says NEXT before the next one starts, passing globals forward with
SET), then all instances run to completion while the runner forwards
BROADCASTs, collects metrics and times out silent instances. The recorded
lines form a result string compared exactly with FILE.py.exp.
"""

import difflib
import itertools
import json
import os
import re
import selectors
import sys
import time

from bleboard.testing.instance import NOISE, InstanceSpec
from bleboard.testing.radio import PrivateRadio
from bleboard.testing.script import build_script, count_instances, initial_globals, skip_reason

TIMEOUT = 10.0  # seconds of silence after which an instance is declared stuck


def is_noise(line):
    return any(marker in line for marker in NOISE)


def result_string(outputs):
    """The text compared with FILE.py.exp: each instance's header, then its lines."""
    return "".join("--- instance%d ---\n%s\n" % (i, "\n".join(lines)) for i, lines in enumerate(outputs))


class TestResult:
    """What one run of one test file on one ordering of instances produced."""

    def __init__(self, path, names, output, expected, skipped, metrics, pids, trace=""):
        self.path = path
        self.trace = trace  # every line as it arrived, timestamped (what -c prints live)
        self.names = names  # display name of each instance, in index order
        self.output = output
        self.expected = expected
        self.metrics = metrics
        self.pids = pids  # of every instance started (all ended by now)
        self.skip_reason = None  # why the run was skipped, when known
        self.skip_directive = None  # set when a `# multitest-skip:` line kept the file from running
        if skipped:
            self.verdict = "skip"
        elif output == expected:
            self.verdict = "pass"
        else:
            self.verdict = "fail"

    @property
    def instances(self):
        return "|".join(self.names)

    def diff(self):
        """Unified diff from the expected text to the output."""
        lines = difflib.unified_diff(
            self.expected.splitlines(True), self.output.splitlines(True), self.path + ".exp", self.path + ".out"
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)

    def failure_report(self):
        """The blocks printed for a failed test."""
        return "### TEST ###\n%s### TRUTH ###\n%s### DIFF ###\n%s" % (self.output, self.expected, self.diff())


class _Run:
    """One execution of a test on a list of instances (both phases)."""

    def __init__(self, runner, path, source, specs):
        self.runner = runner
        self.path = path
        self.source = source
        self.specs = specs
        self.outputs = [[] for _ in specs]
        self.instances = []
        self.metrics = []
        self.skipped = False
        self.skipped_by = None  # index of the instance that printed SKIP
        self.error = False
        self.t0 = time.monotonic()
        self.traced = []

    def trace(self, idx, text):
        line = "%8.3f instance%d %s: %s\n" % (time.monotonic() - self.t0, idx, self.specs[idx].name, text)
        self.traced.append(line)
        if self.runner.trace:
            self.runner.write(line)

    def execute(self):
        try:
            self._start_all()
            if not (self.error or self.skipped):
                self._run_to_end()
        finally:
            for inst in self.instances:
                inst.kill()
        return self.outputs

    def _start_all(self):
        """Phase 1: start each instance and read it until NEXT, SKIP, exit or silence."""
        global_lines = initial_globals(self.source)
        cwd = os.path.dirname(os.path.abspath(self.path))
        radio_addr = self.runner.radio_for(self.specs)
        # Made first, started after: a firmware kind may have to be built (minutes), and a
        # build between two starts would leave the first instance waiting on a silent peer.
        made = [spec.make(radio_addr) for spec in self.specs]
        for idx, inst in enumerate(made):
            self.instances.append(inst)
            inst.start(build_script(self.source, idx, global_lines), cwd)
            while True:
                try:
                    line = inst.readline(self.runner.timeout)
                except TimeoutError:
                    self.trace(idx, "<silent for %g s>" % self.runner.timeout)
                    self.outputs[idx].append("TIMEOUT")
                    self.error = True
                    return
                if line is None:
                    break  # exited before NEXT: move on
                if is_noise(line):
                    continue
                self.trace(idx, line)
                if line.startswith("SET "):
                    global_lines.append(line[4:])
                elif line == "SKIP":
                    self.skipped = True
                    self.skipped_by = idx
                    return
                elif line == "NEXT":
                    break
                else:
                    self.outputs[idx].append(line)

    def _handle(self, idx, line):
        """Phase 2 handling of one line from instance idx."""
        if is_noise(line):
            return
        self.trace(idx, line)
        if line == "BROADCAST" or line.startswith("BROADCAST "):
            for other, inst in enumerate(self.instances):
                if other != idx and not inst.finished:
                    inst.write(line + "\r\n")
        elif line.startswith("OUTPUT_METRIC "):
            self.metrics.append(line[len("OUTPUT_METRIC ") :])
        else:
            # WAIT_FOR_REBOOT is recorded too; a board instance (not written yet) will
            # then also wait for its reboot banner and run the named resume function.
            self.outputs[idx].append(line)

    def _run_to_end(self):
        """Phase 2: serve every instance until all have ended or one stays silent too long.

        Silence is measured from the start of this phase at the earliest: before it,
        instances that said NEXT were simply not being read.
        """
        timeout = self.runner.timeout
        now = time.monotonic()
        last = {idx: now for idx in range(len(self.instances))}
        live = set()
        with selectors.DefaultSelector() as sel:
            for idx, inst in enumerate(self.instances):
                if not inst.finished or inst.has_lines():
                    live.add(idx)
                    if not inst.finished:
                        for fd in inst.fds():
                            sel.register(fd, selectors.EVENT_READ, idx)
            while live:
                for idx in sorted(live):
                    inst = self.instances[idx]
                    line = inst.pop_line()
                    while line is not None:
                        last[idx] = time.monotonic()
                        self._handle(idx, line)
                        line = inst.pop_line()
                    if inst.finished:
                        live.discard(idx)
                        for fd in inst.fds():
                            try:
                                sel.unregister(fd)
                            except (KeyError, ValueError):
                                pass
                if not live:
                    break
                stuck = min(live, key=lambda i: last[i])
                wait = last[stuck] + timeout - time.monotonic()
                if wait <= 0:
                    self.trace(stuck, "<silent for %g s>" % timeout)
                    self.outputs[stuck].append("TIMEOUT")
                    self.error = True
                    return
                for idx in {key.data for key, _ in sel.select(wait)}:
                    self.instances[idx].pump()


class Runner:
    """Runs multitest files; owns the private radio shared by all its runs.

    `radio` is an existing radio address (BLEBOARD_AIR form); without it a private
    `bleboard air` is started the first time a virtual instance needs one.
    """

    def __init__(self, radio=None, latency="board", timeout=TIMEOUT, out=None, show_output=False, trace=False):
        self.radio_addr = radio
        self.latency = latency
        self.timeout = timeout
        self.out = out if out is not None else sys.stdout
        self.show_output = show_output
        self.trace = trace
        self._radio = None

    def write(self, text):
        self.out.write(text)
        self.out.flush()

    def radio_for(self, specs):
        """BLEBOARD_AIR address for these instances, starting the private radio if needed."""
        if self.radio_addr:
            return self.radio_addr
        if self._radio is None and not any(spec.needs_radio for spec in specs):
            return None
        if self._radio is not None and not self._radio.running:
            self._radio.stop()  # it died (between tests, or killed by hand): a fresh one for the next test
            self._radio = None
        if self._radio is None:
            self._radio = PrivateRadio(self.latency)
            self._radio.start()
        return self._radio.addr

    def close(self):
        if self._radio is not None:
            self._radio.stop()
            self._radio = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run_test(self, path, specs):
        """Run one file on the first N of `specs` (N = its instance count) and judge it."""
        with open(path) as f:
            source = f.read()
        count = count_instances(source)
        if count == 0:
            raise ValueError("%s: no 'def instanceN():' line, not a multitest" % path)
        specs = extend_specs(specs, count)[:count]
        reason = skip_reason(source, [s.kind for s in specs])
        if reason:  # the file says it cannot run on one of these kinds (and why)
            result = TestResult(path, [s.name for s in specs], "", "", True, [], [])
            result.skip_directive = result.skip_reason = reason
            return result
        run = _Run(self, path, source, specs)
        output = result_string(run.execute())
        exp_path = path + ".exp"
        if os.path.exists(exp_path):
            with open(exp_path) as f:
                expected = f.read()
        elif run.skipped:
            expected = ""  # a skip is judged without the truth
        else:
            # No recorded truth: CPython instances define it.
            truth = _Run(self, path, source, [InstanceSpec("cpython")] * count)
            expected = result_string(truth.execute())
        pids = [inst.pid for inst in run.instances]
        names = [s.name for s in specs]
        result = TestResult(path, names, output, expected, run.skipped, run.metrics, pids, "".join(run.traced))
        if run.skipped_by is not None:
            result.skip_reason = "instance%d on %s printed SKIP%s" % (
                run.skipped_by, names[run.skipped_by], skip_guard(source))
        return result

    def run_and_report(self, path, specs):
        """Run one test and print its console line, output, failure blocks and metrics."""
        result = self.run_test(path, specs)
        verdict = "FAIL" if result.verdict == "fail" else result.verdict
        if result.skip_directive:
            verdict += " (%s)" % result.skip_directive
        self.write("%s on %s: %s\n" % (path, result.instances, verdict))
        if self.show_output:
            self.write(result.output)
        if result.verdict == "fail":
            self.write(result.failure_report())
        for metric in result.metrics:
            self.write("%s: %s\n" % (path, metric))
        return result


_SKIP_PRINT_RE = re.compile(r"""^\s*(print\(\s*["']SKIP["']\s*\)|multitest\.skip\(\))""")
_GUARD_RE = re.compile(r"^\s*(if |elif |except\b)")


def skip_guard(source):
    """The condition a test checks before printing SKIP (', after: if ...:'), when it has one place
    that does so; what the test found missing is then on the console, not only in the source."""
    lines = source.splitlines()
    guards = set()
    for n, line in enumerate(lines):
        if _SKIP_PRINT_RE.match(line):
            guard = next((lines[k].strip() for k in range(n - 1, max(-1, n - 4), -1) if _GUARD_RE.match(lines[k])), None)
            guards.add(guard)
    if len(guards) == 1 and None not in guards:
        return ", after: %s" % guards.pop()
    return ""


def extend_specs(specs, count, default="virtual"):
    """Instance list padded with the default kind up to `count` participants."""
    specs = list(specs)
    while len(specs) < count:
        specs.append(InstanceSpec(default))
    return specs


def run_tests(runner, paths, specs, permutations=1):
    """Run every file on up to `permutations` orderings of the instance list; return all results."""
    counts = []
    for path in paths:
        with open(path) as f:
            counts.append(count_instances(f.read()))
    specs = extend_specs(specs, max(counts, default=0))
    results = []
    for n, ordering in enumerate(itertools.permutations(specs)):
        if n >= max(1, permutations):
            break
        for path in paths:
            results.append(runner.run_and_report(path, list(ordering)))
    return results


def summary(results):
    """The closing lines: how many ran, passed, were skipped, failed (with names)."""
    passed = [r for r in results if r.verdict == "pass"]
    skipped = [r for r in results if r.verdict == "skip"]
    failed = [r for r in results if r.verdict == "fail"]
    lines = ["%d tests performed" % len(results), "%d tests passed" % len(passed)]
    if skipped:
        lines.append("%d tests skipped: %s" % (len(skipped), " ".join(r.path for r in skipped)))
    if failed:
        lines.append("%d tests failed: %s" % (len(failed), " ".join(r.path for r in failed)))
    return "\n".join(lines) + "\n"


def write_results(result_dir, args, results):
    """Write `_results.json` (per-run verdicts and the failed files) into result_dir."""
    os.makedirs(result_dir, exist_ok=True)
    failed = []
    for r in results:
        if r.verdict == "fail" and r.path not in failed:
            failed.append(r.path)
    data = {
        "args": args,
        "results": [[r.path, r.verdict, ""] for r in results],
        "failed_tests": failed,
        "ignored_tests": [],
    }
    path = os.path.join(result_dir, "_results.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    return path
