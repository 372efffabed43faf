"""_bleio keeps bonds across restarts, as CircuitPython keeps them in flash: two board
processes pair with bond=True; started again, they encrypt with the stored keys (the stores
stay byte for byte the same: no new keys were made); erase_bonding empties the store."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bluetooth"))
from test_board_process import start_air

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "bleio_bond_board.py")
P_ADDR, C_ADDR = "00:B0:0D:00:01:01", "00:B0:0D:00:01:02"


def run_pair(address, p_store, c_store):
    env = dict(os.environ, BLEBOARD_AIR=address, PYTHONUNBUFFERED="1")
    periph = subprocess.Popen([sys.executable, "-m", "bleboard", "run", SCRIPT, "peripheral"],
                              env=dict(env, BLEBOARD_ADDRESS=P_ADDR, BLEBOARD_BLEIO_BONDS=p_store),
                              stdout=subprocess.PIPE, text=True)
    try:
        first = periph.stdout.readline().split()
        assert first[0] == "ADDR", first
        central = subprocess.run([sys.executable, "-m", "bleboard", "run", SCRIPT, "central", first[1]],
                                 env=dict(env, BLEBOARD_ADDRESS=C_ADDR, BLEBOARD_BLEIO_BONDS=c_store),
                                 capture_output=True, text=True, timeout=60)
        p_out = periph.communicate(timeout=30)[0]
    finally:
        periph.kill()
    assert central.returncode == 0, central.stderr
    return p_out.split("\n"), central.stdout.split("\n")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_bonds_survive_a_restart_and_erase_bonding_clears_them(tmp_path):
    air, address = start_air(tmp_path)
    p_store, c_store = str(tmp_path / "p.json"), str(tmp_path / "c.json")
    try:
        p, c = run_pair(address, p_store, c_store)
        assert "paired True" in p and c[:2] == ["paired True", "read b'secret'"], (p, c)
        first = read(p_store), read(c_store)
        assert all(len(store) > 20 for store in first)
        p, c = run_pair(address, p_store, c_store)
        assert "paired True" in p and c[:2] == ["paired True", "read b'secret'"], (p, c)
        assert (read(p_store), read(c_store)) == first  # encrypted with the stored keys
    finally:
        air.terminate()
        air.wait(5)
    code = "import _bleio; _bleio.adapter.erase_bonding(); print(open(%r).read())" % c_store
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, BLEBOARD_BLEIO_BONDS=c_store),
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_without_a_store_bonds_stay_in_memory(tmp_path):
    code = "import _bleio._bonds as b; s = b.BondStore(b.default_path()); print(s._path, s.set(2, b'k', b'v'))"
    env = {k: v for k, v in os.environ.items() if k != "BLEBOARD_BLEIO_BONDS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.stdout.split() == ["None", "True"], out.stdout + out.stderr
    assert os.listdir(tmp_path) == []
