"""`bleboard deploy` through the real mpremote library onto the pty virtual board.

On hardware the same transport talks to /dev/ttyACM0; here the board's
filesystem is a directory we can inspect after each deploy.
"""

import os
import signal
import subprocess
import sys

import pytest

from bleboard.tools import deploy, freeze, pty_board

pytest.importorskip("mpremote")


def make_bundle(root, files, out):
    src = root / "src" / "blepkg"
    if src.exists():
        for p in src.iterdir():
            p.unlink()
    src.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (src / name).write_text(text)
    (root / "manifest.py").write_text('package("blepkg", base_path="src")\n')
    return freeze.build(str(out), str(root / "manifest.py"), log=lambda m: None)


@pytest.fixture
def board(tmp_path):
    fs = tmp_path / "fs"
    fs.mkdir()
    with pty_board.running_board(fs=str(fs)) as (path, proc):
        yield path, fs, proc


def test_deploy_copies_only_what_changed(tmp_path, board):
    path, fs, _ = board
    out = tmp_path / "bundle"
    make_bundle(tmp_path, {"__init__.py": "from .a import A\n", "a.py": "A = 1\n", "b.py": "B = 2\n"}, out)
    written, removed, unchanged = deploy.run(path, str(out), log=lambda m: None)
    assert written == ["lib/blepkg/__init__.mpy", "lib/blepkg/a.mpy", "lib/blepkg/b.mpy"] and unchanged == 0
    for rel in written:
        assert (fs / rel).read_bytes() == (out / rel).read_bytes()
    assert deploy.run(path, str(out), log=lambda m: None) == ([], [], 3)

    make_bundle(tmp_path, {"__init__.py": "from .a import A\n", "a.py": "A = 10\n"}, out)  # a changed, b gone
    written, removed, unchanged = deploy.run(path, str(out), log=lambda m: None)
    assert (written, removed, unchanged) == (["lib/blepkg/a.mpy"], ["lib/blepkg/b.mpy"], 1)
    assert (fs / "lib/blepkg/a.mpy").read_bytes() == (out / "lib/blepkg/a.mpy").read_bytes()
    assert not (fs / "lib/blepkg/b.mpy").exists()
    assert not [p for p in fs.rglob("*.tmp")]

    (fs / "lib/blepkg/a.mpy").write_bytes(b"M\x06\x00\x1f damaged on the board")  # changed behind our back
    written, _, _ = deploy.run(path, str(out), log=lambda m: None)
    assert written == ["lib/blepkg/a.mpy"]


def test_cli_dry_run_and_missing_bundle(tmp_path, board):
    path, fs, _ = board
    out = tmp_path / "bundle"
    make_bundle(tmp_path, {"a.py": "A = 1\n"}, out)
    r = subprocess.run([sys.executable, "-m", "bleboard", "deploy", "--port", path, "--bundle", str(out), "--dry-run"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "/lib/blepkg/a.mpy" in r.stdout and "would copy 1 file(s)" in r.stdout
    assert not (fs / "lib" / "blepkg").exists()
    r = subprocess.run([sys.executable, "-m", "bleboard", "deploy", "--port", path, "--bundle", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "run 'bleboard freeze" in r.stderr


def test_board_error_carries_its_output(board):
    from mpremote.transport_serial import SerialTransport

    path, fs, _ = board
    (fs / ".bleboard-bundle.json").mkdir()  # the board cannot replace its index: a directory is in the way
    t = SerialTransport(path)
    try:
        t.enter_raw_repl()
        with pytest.raises(deploy.DeployError, match=r"(?s)writing the index failed on the board:.*OSError"):
            deploy.Deployer(t, log=lambda m: None).write_index({"files": {}})
        t.exit_raw_repl()
    finally:
        t.close()


def test_port_vanishing_mid_deploy(tmp_path, board):
    path, fs, proc = board
    out = tmp_path / "bundle"
    make_bundle(tmp_path, {f"m{i}.py": "X = %d\n" % i * 50 for i in range(6)}, out)
    before = sorted(p.name for p in out.rglob("*"))

    def unplug(n, rel):
        if n == 2:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    with pytest.raises(deploy.DeployError, match=r"2 file\(s\) were written completely.*run deploy again"):
        deploy.run(path, str(out), log=lambda m: None, on_file=unplug)
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing local touched
    for rel in ("lib/blepkg/m0.mpy", "lib/blepkg/m1.mpy"):
        assert (fs / rel).read_bytes() == (out / rel).read_bytes()
    assert not (fs / ".bleboard-bundle.json").exists()  # the index only follows a complete deploy


def test_format_check():
    index = {"mpy_version": "6", "arch": "xtensawin", "files": {}}
    deploy.check_format(index, None)  # virtual board: nothing to compare
    deploy.check_format(index, 6 | (3 << 8) | (10 << 10))  # ESP32-S3 firmware
    with pytest.raises(deploy.DeployError, match="architecture is armv7emsp.*--arch armv7emsp"):
        deploy.check_format(index, 6 | (3 << 8) | (7 << 10))
    with pytest.raises(deploy.DeployError, match="v5.0, the bundle is v6"):
        deploy.check_format(index, 5)


def test_plan_without_hashlib_uses_sizes_and_index():
    index = {"files": {"lib/a.mpy": {"size": 10, "sha256": "aa"}, "lib/b.mpy": {"size": 5, "sha256": "bb"}}}
    device_index = {"files": {"lib/a.mpy": {"size": 10, "sha256": "aa"}, "lib/b.mpy": {"size": 5, "sha256": "old"},
                              "lib/c.mpy": {"size": 1, "sha256": "cc"}}}
    hashes = {"/lib/a.mpy": "size:10", "/lib/b.mpy": "size:5"}
    assert deploy.plan(index, hashes, device_index) == (["lib/b.mpy"], ["lib/c.mpy"])
