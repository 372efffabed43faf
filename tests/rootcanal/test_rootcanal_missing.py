"""Without the rootcanal wheel, `bleboard air --engine rootcanal` says how to get it (runs everywhere)."""

import os
import subprocess
import sys

HIDE_WHEEL = (
    "import sys\n"
    "sys.modules['rootcanal'] = None  # as if the wheel were not installed\n"
    "sys.modules['rootcanal.binaries'] = None\n"
    "from bleboard.cli import main\n"
    "sys.argv = ['bleboard', 'air', '--engine', 'rootcanal', '--listen', 'unix:' + sys.argv[1]]\n"
    "sys.exit(main())\n"
)


def test_missing_wheel_is_one_line_and_exit_1(tmp_path):
    path = os.path.join(str(tmp_path), "air.sock")
    out = subprocess.run([sys.executable, "-c", HIDE_WHEEL, path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stderr
    assert "pip install rootcanal==1.10.0" in out.stderr
    assert "Traceback" not in out.stderr
    assert not os.path.exists(path)  # nothing served


def test_engine_rejects_options_it_cannot_honour(tmp_path):
    path = os.path.join(str(tmp_path), "air.sock")
    out = subprocess.run([sys.executable, "-m", "bleboard", "air", "--engine", "rootcanal", "--latency", "fast",
                          "--listen", "unix:" + path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--engine rootcanal" in out.stderr
