"""Inside `bleboard run` the board modules are ours, whatever else is installed.

Conflicts are real packages on disk: a fake site-packages directory processed
by `site.addsitedir` (so its .pth files run, as at interpreter start-up) and,
where present on this host, Adafruit-Blinka's `micropython` and
adafruit-blinka-bleio's `_bleio`.
"""

import json
import os
import subprocess
import sys

import pytest

from boardrun import clean_env, run_board

import bleboard
from bleboard.runtime import precedence

MPY_DIR = precedence.MPY_DIR
SRC_DIR = precedence.SRC_DIR

REPORT = (
    "import json, sys\n"
    "import micropython, machine, _bleio, bluetooth, aioble\n"
    "print(json.dumps({m.__name__: getattr(m, '__file__', None) or list(m.__path__)[0]"
    " for m in (micropython, machine, _bleio, bluetooth, aioble)}))\n"
)


def _fake_site(tmp_path):
    """A site-packages look-alike shipping its own micropython, machine, _bleio, bluetooth, aioble."""
    site_dir = tmp_path / "fake-site"
    for package in ("_bleio", "aioble"):
        (site_dir / package).mkdir(parents=True)
        (site_dir / package / "__init__.py").write_text("FAKE = True\n")
    (site_dir / "bluetooth.py").write_text("FAKE = True  # PyBluez used this name\n")
    (site_dir / "micropython.py").write_text("FAKE = True\ndef const(x):\n    return x\n")
    extra = tmp_path / "pth-added"
    extra.mkdir()
    (extra / "machine.py").write_text("FAKE = True\n")
    # Like Blinka & co: one .pth adds a directory, another imports a module at start-up.
    (site_dir / "extra.pth").write_text(str(extra) + "\n")
    (site_dir / "zz-preload.pth").write_text("import micropython\n")
    return site_dir


def _site_launcher(site_dir):
    """Start-up code for `python -S`: the fake site dir first, then the real ones (with our .pth)."""
    # The site dirs of *this* interpreter: under -S inside a virtual environment,
    # site.getsitepackages() would name the base interpreter's instead.
    import site

    return (
        "import site, sys\n"
        "for d in [%r] + %r:\n"
        "    site.addsitedir(d)\n" % (str(site_dir), site.getsitepackages())
    )


def _run_with_site(site_dir, *args, env=None):
    launcher = _site_launcher(site_dir) + (
        "assert getattr(sys.modules['micropython'], 'FAKE', False)\n"  # the .pth pre-imported it
        "from bleboard.cli import main\n"
        "sys.exit(main(['run'] + sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-S", "-c", launcher, *args], capture_output=True, text=True, env=env or clean_env(), timeout=30
    )


def _origin_dir(path, name):
    return os.path.dirname(path) if path.endswith(name + ".py") else os.path.dirname(path.rstrip("/"))


def test_ours_win_over_fake_site_packages(tmp_path):
    site_dir = _fake_site(tmp_path)
    r = _run_with_site(site_dir, "-c", REPORT)
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)
    assert files["micropython"] == os.path.join(MPY_DIR, "micropython.py")
    assert files["machine"] == os.path.join(MPY_DIR, "machine.py")
    for package in ("_bleio", "bluetooth", "aioble"):
        assert files[package] == os.path.join(SRC_DIR, package, "__init__.py")


def test_fake_site_wins_in_plain_python(tmp_path):
    # The control: without bleboard run the fake packages are what Python imports.
    site_dir = _fake_site(tmp_path)
    code = _site_launcher(site_dir) + REPORT
    r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=clean_env())
    files = json.loads(r.stdout)
    assert files["micropython"] == str(site_dir / "micropython.py")
    assert files["machine"] == str(tmp_path / "pth-added" / "machine.py")
    assert files["bluetooth"] == str(site_dir / "bluetooth.py")
    assert files["aioble"] == str(site_dir / "aioble" / "__init__.py")


def test_pythonpath_dir_wins_over_ours(tmp_path):
    user = tmp_path / "user-lib"
    user.mkdir()
    (user / "machine.py").write_text("def idle():\n    print('user machine')\n")
    site_dir = _fake_site(tmp_path)
    r = _run_with_site(site_dir, "-c", REPORT + "machine.idle()\n", env=clean_env(PYTHONPATH=str(user)))
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    files = json.loads(out[0])
    assert files["machine"] == str(user / "machine.py")
    assert files["micropython"] == os.path.join(MPY_DIR, "micropython.py")
    assert out[1] == "user machine"


def test_sys_path_order(tmp_path):
    user = tmp_path / "u"
    user.mkdir()
    code = "import sys, json; print(json.dumps(sys.path))"
    r = run_board("-c", code, env=clean_env(PYTHONPATH=str(user)), cwd=tmp_path)
    path = json.loads(r.stdout)
    assert path[:3] == ["", str(user), MPY_DIR]


def test_program_can_still_put_its_own_dir_first(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "micropython.py").write_text("MINE = True\n")
    code = "import sys\nsys.path.insert(0, %r)\nimport micropython\nprint(getattr(micropython, 'MINE', False))" % str(lib)
    assert run_board("-c", code).stdout == "True\n"
    code = code.replace("sys.path.insert(0, ", "sys.path.append(")
    assert run_board("-c", code).stdout == "False\n"


def _installed_origin(name):
    r = subprocess.run(
        [sys.executable, "-c", "import importlib.machinery as m; print(m.PathFinder.find_spec(%r).origin)" % name],
        capture_output=True, text=True, env=clean_env(), cwd="/",
    )
    return r.stdout.strip() if r.returncode == 0 else None


@pytest.mark.parametrize("name", ["micropython", "_bleio"])
def test_ours_win_over_installed_blinka(name):
    installed = _installed_origin(name)
    if installed is None or installed.startswith((MPY_DIR, SRC_DIR)):
        pytest.skip("no conflicting %s installed on this host" % name)
    r = run_board("-c", "import %s as m; print(getattr(m, '__file__', None) or list(m.__path__)[0])" % name, cwd="/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith((MPY_DIR, os.path.join(SRC_DIR, name)))


def test_adafruit_style_import_gets_our_const():
    # Blinka-based libraries do `from micropython import const`; they must get ours.
    r = run_board("-c", "from micropython import const, schedule\nprint(const(5))")
    assert (r.returncode, r.stdout) == (0, "5\n"), r.stderr


def test_src_dir_is_the_one_holding_bleboard():
    assert os.path.dirname(os.path.dirname(bleboard.__file__)) == SRC_DIR
