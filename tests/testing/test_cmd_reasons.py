"""`bleboard test` explains itself: why a test was skipped, why `-i cpython` cannot run a test,
and `-i exec:CMD` taking a command line as a shell would."""

import subprocess
import sys

import pytest

from bleboard.testing.instance import InstanceError, InstanceSpec
from bleboard.testing.multitest import skip_guard
from bleboard.testing.test_cmd import imported_modules

GUARDED = '''import sys

if not hasattr(sys, "no_such_feature"):
    print("SKIP")
    raise SystemExit


def instance0():
    multitest.next()


def instance1():
    multitest.next()
'''


def bleboard_test(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bleboard", "test", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_skip_names_the_instance_and_its_check(tmp_path):
    path = tmp_path / "guarded.py"
    path.write_text(GUARDED)
    out = bleboard_test("-i", "cpython", "-i", "cpython", str(path))
    assert out.returncode == 0, out.stderr
    name = InstanceSpec("cpython").name
    assert out.stdout.splitlines()[:2] == [
        "%s on %s|%s: skip" % (path, name, name),
        '  skipped: instance0 on %s printed SKIP, after: if not hasattr(sys, "no_such_feature"):' % name,
    ]


def test_skip_guard_only_when_unambiguous():
    assert skip_guard(GUARDED) == ', after: if not hasattr(sys, "no_such_feature"):'
    two = GUARDED + '\ntry:\n    import nothing\nexcept ImportError:\n    print("SKIP")\n'
    assert skip_guard(two) == ""  # two checks: the instance that printed SKIP is still named
    assert skip_guard("def instance0():\n    multitest.skip()\n") == ""


def test_cpython_refused_for_a_board_test(tmp_path):
    path = tmp_path / "needs_board.py"
    path.write_text("import machine\nfrom micropython import const\n\n\ndef instance0():\n    print(1)\n")
    out = bleboard_test("-i", "cpython", str(path))
    assert out.returncode == 2
    assert out.stderr.startswith("bleboard test: %s imports machine" % path)
    assert "use -i virtual" in out.stderr and out.stderr.count("\n") == 1
    assert out.stdout == ""  # refused before anything ran


def test_imported_modules_sees_every_import():
    source = "import a.b, c\nfrom d.e import f\nfrom . import g\ndef h():\n    import i\n"
    assert imported_modules(source) == {"a", "c", "d", "i"}


def test_exec_command_is_split_like_a_shell(tmp_path):
    folder = tmp_path / "with space"
    folder.mkdir()
    python = folder / "py"
    python.symlink_to(sys.executable)
    spec = InstanceSpec("exec:'%s' -X dev,TAG=1" % python)
    assert spec.argv == [str(python), "-X", "dev"] and spec.env == {"TAG": "1"} and spec.name == "py"
    path = tmp_path / "flags.py"
    path.write_text("import sys\n\n\ndef instance0():\n    print(sys.flags.dev_mode)\n")
    (tmp_path / "flags.py.exp").write_text("--- instance0 ---\nTrue\n")
    out = bleboard_test("-i", "exec:'%s' -X dev" % python, str(path))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("text, error", [("exec:'open", "cannot split the command"), ("exec:  ", "no command")])
def test_bad_exec_commands(text, error):
    with pytest.raises(InstanceError, match=error):
        InstanceSpec(text)
