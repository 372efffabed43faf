"""`bleboard freeze`: the manifest language, mpy-cross output headers, bundle swap-in."""

import json
import os
import subprocess
import sys

import pytest

from bleboard.tools import freeze, manifest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def project(tmp_path):
    """A small tree laid out like ours: src/pkg with a native function, frozen/ manifests."""
    src = tmp_path / "src" / "blepkg"
    (src / "sub").mkdir(parents=True)
    (src / "__init__.py").write_text("from .core import f\n")
    (src / "core.py").write_text("import micropython\n\n@micropython.native\ndef f(x):\n    return x + 1\n")
    (src / "sub" / "extra.py").write_text("X = const(3)\n")
    (tmp_path / "src" / "single.py").write_text("def g():\n    return 2\n")
    fz = tmp_path / "frozen"
    (fz / "blepkg").mkdir(parents=True)
    (fz / "blepkg" / "manifest.py").write_text(
        'metadata(description="test pkg", version="1.0")\npackage("blepkg", base_path="../../src")\n')
    (fz / "manifest.py").write_text(
        'include("$(PORT_DIR)/boards/manifest.py")\n'
        'include("blepkg")\n'
        'module("single.py", base_path="../src")\n'
        'require("aioble-core")\n')
    return tmp_path


def test_manifest_language(project):
    m = manifest.read(str(project / "frozen" / "manifest.py"))
    assert sorted(t for _, t, _ in m.files) == ["blepkg/__init__.py", "blepkg/core.py", "blepkg/sub/extra.py", "single.py"]
    assert m.metadata == {"description": "test pkg", "version": "1.0"}
    assert any("PORT_DIR" in s for s in m.skipped) and any("aioble-core" in s for s in m.skipped)
    (project / "frozen" / "manifest.py").write_text('include("nothere")\n')
    with pytest.raises(manifest.ManifestError, match="nothere/manifest.py does not exist"):
        manifest.read(str(project / "frozen" / "manifest.py"))
    (project / "other").mkdir()
    (project / "other" / "single.py").write_text("def g():\n    return 3\n")
    (project / "frozen" / "manifest.py").write_text(
        'module("single.py", base_path="../src")\nmodule("single.py", base_path="../src")\n'  # same file twice: once
        'module("single.py", base_path="../other")\n')
    with pytest.raises(manifest.ManifestError, match="frozen twice"):
        manifest.read(str(project / "frozen" / "manifest.py"))


def test_bundle_headers_per_arch(project, tmp_path):
    out = tmp_path / "bundle"
    index = freeze.build(str(out), str(project / "frozen" / "manifest.py"), arch="armv7emsp", opt=1, log=lambda m: None)
    assert sorted(index["files"]) == [
        "lib/blepkg/__init__.mpy", "lib/blepkg/core.mpy", "lib/blepkg/sub/extra.mpy", "lib/single.mpy"
    ]
    native = freeze.mpy_header(str(out / "lib" / "blepkg" / "core.mpy"))
    assert (native["magic"], native["version"], native["arch"]) == ("M", 6, "armv7emsp")
    plain = freeze.mpy_header(str(out / "lib" / "single.mpy"))
    assert (plain["magic"], plain["version"], plain["arch"]) == ("M", 6, "")  # bytecode only: no arch stamped
    on_disk = json.loads((out / freeze.INDEX).read_text())
    assert on_disk["files"]["lib/single.mpy"]["sha256"] == freeze.sha256_file(str(out / "lib" / "single.mpy"))
    # another chip: the native code is stamped with its architecture
    freeze.build(str(out), str(project / "frozen" / "manifest.py"), arch="xtensawin", log=lambda m: None)
    assert freeze.mpy_header(str(out / "lib" / "blepkg" / "core.mpy"))["arch"] == "xtensawin"


def test_older_micropython_format(project, tmp_path):
    out = tmp_path / "old"
    index = freeze.build(str(out), str(project / "frozen" / "manifest.py"), version="1.12", arch="armv7emsp", log=lambda m: None)
    assert index["mpy_version"] == "5"
    assert freeze.mpy_header(str(out / "lib" / "single.mpy"))["version"] == 5
    with pytest.raises(freeze.FreezeError, match="--version 0.1: mpy-cross knows MicroPython v1.23.0"):
        freeze.build(str(out), str(project / "frozen" / "manifest.py"), version="0.1", log=lambda m: None)
    assert freeze.mpy_header(str(out / "lib" / "single.mpy"))["version"] == 5  # old bundle kept


def test_compile_error_keeps_old_bundle(project, tmp_path):
    out = tmp_path / "bundle"
    with pytest.raises(freeze.FreezeError, match="native/viper code needs a target"):
        freeze.build(str(out), str(project / "frozen" / "manifest.py"), log=lambda m: None)
    freeze.build(str(out), str(project / "frozen" / "manifest.py"), arch="armv6m", log=lambda m: None)
    before = (out / freeze.INDEX).read_text()
    (project / "src" / "single.py").write_text("def g(:\n")
    with pytest.raises(freeze.FreezeError, match=r"single.py"):
        freeze.build(str(out), str(project / "frozen" / "manifest.py"), arch="armv6m", log=lambda m: None)
    assert (out / freeze.INDEX).read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bundle-")] == []


def test_cli_with_board_and_real_manifest(tmp_path):
    """The repository's own frozen/manifest.py, whatever libraries exist so far."""
    out = tmp_path / "b"
    argv = [sys.executable, "-m", "bleboard", "freeze", "--out", str(out), "--board", "raspberry_pi_pico_w", "-O", "2"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    index = json.loads((out / freeze.INDEX).read_text())
    assert index["arch"] == "armv6m" and index["opt"] == 2
    expected = []
    if os.path.isfile(os.path.join(REPO, "frozen", "aioble", "manifest.py")):
        expected += ["lib/aioble/__init__.mpy", "lib/aioble/core.mpy"]
    if os.path.isfile(os.path.join(REPO, "frozen", "_bleio", "manifest.py")):
        expected += ["lib/_bleio/__init__.mpy"]
    assert set(expected) <= set(index["files"])
    for rel in index["files"]:
        head = freeze.mpy_header(str(out / rel))
        assert head["magic"] == "M" and head["version"] == 6 and head["arch"] in ("", "armv6m")
    r = subprocess.run([sys.executable, "-m", "bleboard", "freeze", "--out", str(out), "--arch", "z80"],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2 and "argument --arch: invalid choice: 'z80'" in r.stderr  # a usage error


def test_repository_manifest_freezes_every_library_file():
    """frozen/manifest.py reads without missing includes and leaves no aioble/_bleio source out."""
    m = manifest.read(os.path.join(REPO, "frozen", "manifest.py"))  # strict: a missing include fails
    frozen = {t for _, t, _ in m.files}
    for lib in ("aioble", "_bleio"):
        root = os.path.join(REPO, "src", lib)
        sources = {lib + "/" + name for name in os.listdir(root) if name.endswith(".py")}
        assert sources, f"no sources in src/{lib}"
        assert sources <= frozen, f"not in any manifest: {sorted(sources - frozen)}"
    assert m.skipped == ["include('$(MPY_DIR)/extmod/asyncio'): part of the firmware build"]
