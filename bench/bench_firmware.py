"""Benchmark of real MicroPython firmware as a board: its build time, and GATT ping-pong against CPython boards.

* build: a clean build of the unix firmware with NimBLE (mpy-cross, the port,
  our frozen libraries) into a throw-away cache, timed; `--no-build` skips it.
* ping-pong: bench/firmware/pingpong.py, a client writing without response and a
  server notifying the value back from its write handler, 200 rounds, run by the
  multitest runner on one private radio for each pairing, on the "fast" air
  (stack cost only) and the "board" air (connection events as on a board).
  Printed as ms per notification and as a ratio against two CPython (virtual)
  boards measured in the same run.

Never fails on timing; run with `python bench/bench_firmware.py [--no-build]`.
"""

import io
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PINGPONG = os.path.join(HERE, "firmware", "pingpong.py")
PAIRS = (("virtual", "virtual"), ("micropython", "virtual"), ("virtual", "micropython"),
         ("micropython", "micropython"))
AIRS = ("fast", "board")


def build_time():
    """Seconds for a clean NimBLE build (the tarball is unpacked before the clock starts)."""
    from bleboard.tools import firmware_build

    cache = tempfile.mkdtemp(prefix="bleboard-bench-firmware-")
    old = os.environ.get(firmware_build.CACHE_ENV)
    os.environ[firmware_build.CACHE_ENV] = cache
    try:
        firmware_build.source_dir()
        t0 = time.monotonic()
        firmware_build.build("nimble", force=True)
        return time.monotonic() - t0
    finally:
        if old is None:
            del os.environ[firmware_build.CACHE_ENV]
        else:
            os.environ[firmware_build.CACHE_ENV] = old
        shutil.rmtree(cache, ignore_errors=True)


def pingpong(latency, pair):
    """ms per notification for one pairing (server, client), or None if the run failed."""
    from bleboard.testing.instance import InstanceSpec
    from bleboard.testing.multitest import Runner

    with Runner(latency=latency, timeout=60, out=io.StringIO()) as runner:
        result = runner.run_test(PINGPONG, [InstanceSpec(kind) for kind in pair])
    if result.verdict != "pass":
        print("  %s|%s failed:\n%s" % (pair + (result.diff(),)), file=sys.stderr)
        return None
    for metric in result.metrics:
        match = re.match(r"ms_per_notification ([0-9.]+)", metric)
        if match:
            return float(match.group(1))
    return None


def main(argv):
    from bleboard.tools import firmware_build

    try:
        firmware_build.resolve_source()
    except firmware_build.SourceMissing as exc:
        print("skipped: %s" % exc)
        return 0
    if "--no-build" not in argv:
        print("firmware build, unix + NimBLE, clean, %d cores: %.1f s" % (os.cpu_count() or 1, build_time()),
              flush=True)
    for latency in AIRS:
        base = None
        for server, client in PAIRS:
            ms = pingpong(latency, (server, client))
            if (server, client) == ("virtual", "virtual"):
                base = ms
            ratio = " (x%.2f of CPython|CPython)" % (ms / base) if ms and base else ""
            shown = "%.3f ms" % ms if ms is not None else "failed"
            print("ping-pong %-5s air, server %-11s client %-11s: %s per notification%s"
                  % (latency, server, client, shown, ratio), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
