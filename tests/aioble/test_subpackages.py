"""Each aioble sub-package manifest (frozen/aioble-*) is usable alone: its files, read
with the same manifest reader `bleboard freeze` uses, import on their own with every
other role module absent, and export only what is there."""

import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

from bleboard.tools import manifest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ["central", "peripheral", "server", "client", "l2cap", "security"]
CORE = ["__init__.py", "compat.py", "core.py", "device.py"]
EXPORTS = {  # what each role adds to the aioble namespace
    "central": ["scan", "ScanResult"],
    "peripheral": ["advertise"],
    "server": ["Service", "Characteristic", "BufferedCharacteristic", "Descriptor", "register_services"],
    "client": ["ClientService", "ClientCharacteristic", "ClientDescriptor", "ClientDiscover"],
    "l2cap": ["L2CAPChannel"],
    "security": ["security"],
}
# Something each role can do without a radio, to show its module works.
EXERCISE = {
    "central": "r = aioble.ScanResult(aioble.Device(0, b'123456')); r._update(0, -1, b'\\x03\\x09ab'); assert r.name() == 'ab'",
    "peripheral": (
        "from aioble.peripheral import _payloads; "
        "assert _payloads(None, None, 0, 0, 'x', None, 0, None)[0] == b'\\x02\\x01\\x06\\x02\\x09x'"
    ),
    "server": (
        "s = aioble.Service(UUID(1)); c = aioble.Characteristic(s, UUID(2), read=True); "
        "assert s._definition() == (UUID(1), ((UUID(2), 2, ()),))"
    ),
    "client": "assert aioble.ClientCharacteristic.queue_depth == 1",
    "l2cap": "assert aioble.L2CAPChannel.__name__ == 'L2CAPChannel'",
    "security": "assert aioble.security._irq(30, (2, b'k', b'v')) is True",
}


def files_of(package):
    m = manifest.read(ROOT / "frozen" / package)
    assert all(t.startswith("aioble/") for _, t, _ in m.files)
    return m


def install(m, into):
    for source, target, _ in m.files:
        dest = into / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, dest)


def run_alone(tmp_path, roles):
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, %r)
        from bluetooth import UUID
        import aioble
        assert aioble.__file__.startswith(%r), aioble.__file__
        present = %r
        exports = %r
        for role, names in exports.items():
            for name in names:
                assert hasattr(aioble, name) == (role in present), (role, name)
            if role not in present:
                try:
                    __import__("aioble." + role)
                except ImportError:
                    pass
                else:
                    raise AssertionError("aioble.%%s should be absent" %% role)
        d = aioble.Device(0, "00:11:22:33:44:55")
        assert d.addr_hex() == "00:11:22:33:44:55"
        """
        % (str(tmp_path), str(tmp_path), roles, EXPORTS)
    )
    for role in roles:
        script += EXERCISE[role] + "\n"
    script += "print('ok')\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_core_alone(tmp_path):
    m = files_of("aioble-core")
    assert sorted(t for _, t, _ in m.files) == sorted("aioble/" + f for f in CORE)
    install(m, tmp_path)
    run_alone(tmp_path, [])


@pytest.mark.parametrize("role", ROLES)
def test_role_with_core_only(role, tmp_path):
    m = files_of("aioble-" + role)
    assert sorted(t for _, t, _ in m.files) == sorted("aioble/" + f for f in CORE + [role + ".py"])
    assert m.metadata.get("description") and m.metadata.get("version")
    install(m, tmp_path)
    run_alone(tmp_path, [role])


def test_peripheral_only_build(tmp_path):
    # What a small peripheral board freezes: core, peripheral and server.
    for package in ("aioble-peripheral", "aioble-server"):
        install(files_of(package), tmp_path)
    run_alone(tmp_path, ["peripheral", "server"])


def test_meta_package_has_every_file():
    m = files_of("aioble")
    assert sorted(t for _, t, _ in m.files) == sorted("aioble/" + f.name for f in (ROOT / "src" / "aioble").glob("*.py"))
