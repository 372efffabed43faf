"""With a tracer in every thread (coverage.py, debuggers), CPython 3.11 makes a traced thread
spin while a wake-up signal waits for the main thread; if that signal missed the main
thread's wait, the radio thread that should send it again is the one spinning. The radio
and watchdog threads run untraced, so delivery keeps going (the wait below is a hang
detector, far longer than a transfer takes)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "traced_l2cap.py"


def test_l2cap_transfers_keep_going_under_a_tracer():
    out = subprocess.run([sys.executable, str(SCRIPT), "4", "300"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "in time 4 of 4", out.stdout + out.stderr


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="only 3.11's tracing spins")
def test_radio_thread_drops_the_tracer():
    code = (
        "import sys, threading\n"
        "threading.settrace(lambda *a: None)\n"
        "from bleboard.port import loop\n"
        "async def probe():\n"
        "    return sys.gettrace(), sys.getprofile()\n"
        "print(loop.get().run(probe()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "(None, None)", out.stdout + out.stderr
