"""Every freeze manifest in frozen/ and ports/unix-ble/ is accepted by MicroPython's own manifest tool."""

import glob
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFESTS = sorted(glob.glob(os.path.join(REPO, "frozen", "*", "manifest.py"))) + [
    os.path.join(REPO, "frozen", "manifest.py"),
    os.path.join(REPO, "ports", "unix-ble", "manifest.py"),
]


def manifestfile(source, mode, path):
    """Run MicroPython's tools/manifestfile.py on one manifest; return (status, output)."""
    proc = subprocess.run(
        [sys.executable, os.path.join(source, "tools", "manifestfile.py"), mode,
         "--port", os.path.join(source, "ports", "unix"), "--top", source, path],
        capture_output=True, text=True, timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("mode", ["--freeze", "--compile"])
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: os.path.relpath(p, REPO))
def test_micropython_accepts_manifest(micropython_source, path, mode):
    status, out = manifestfile(micropython_source, mode, path)
    assert status == 0, out
    assert "Duplicate call to metadata()" not in out


def frozen_targets(out):
    """{target path: source path} from manifestfile.py's ManifestOutput lines."""
    pairs = re.findall(r"full_path='([^']*)', target_path='([^']*)'", out)
    return {target: source for source, target in pairs}


def test_top_manifest_freezes_asyncio_and_every_library_file(micropython_source):
    status, out = manifestfile(micropython_source, "--freeze", os.path.join(REPO, "frozen", "manifest.py"))
    assert status == 0, out
    targets = frozen_targets(out)
    assert "asyncio/core.py" in targets
    for lib in ("aioble", "_bleio"):
        for name in os.listdir(os.path.join(REPO, "src", lib)):
            if name.endswith(".py"):
                # Ours, never micropython-lib's: the file frozen is this repository's.
                source = targets.get("%s/%s" % (lib, name))
                assert source == os.path.join(REPO, "src", lib, name), (lib, name, source)


def test_sub_package_pulls_core_once(micropython_source):
    status, out = manifestfile(
        micropython_source, "--freeze", os.path.join(REPO, "frozen", "aioble-central", "manifest.py")
    )
    assert status == 0, out
    assert sorted(frozen_targets(out)) == sorted(
        "aioble/" + n for n in ("__init__.py", "compat.py", "core.py", "device.py", "central.py")
    )
    assert sum("target_path='aioble/core.py'" in line for line in out.splitlines()) == 1, out
