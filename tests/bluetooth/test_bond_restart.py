"""Bonds survive restarts: new board processes re-encrypt with the application's stored keys."""

import os
import subprocess
import sys

from test_board_process import start_air

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "bond_board.py")
P_ADDR, C_ADDR = "00:B0:0D:00:00:01", "00:B0:0D:00:00:02"


def run_pair(address, tmp_path):
    env = dict(os.environ, BLEBOARD_AIR=address, PYTHONUNBUFFERED="1")
    p_store, c_store = str(tmp_path / "p.json"), str(tmp_path / "c.json")
    periph = subprocess.Popen([sys.executable, "-m", "bleboard", "run", SCRIPT, "peripheral", p_store],
                              env=dict(env, BLEBOARD_ADDRESS=P_ADDR), stdout=subprocess.PIPE, text=True)
    try:
        first = periph.stdout.readline().split()
        assert first[0] == "ADDR" and first[1] == P_ADDR.replace(":", "").lower()
        central = subprocess.run([sys.executable, "-m", "bleboard", "run", SCRIPT, "central", c_store, first[1]],
                                 env=dict(env, BLEBOARD_ADDRESS=C_ADDR), capture_output=True, text=True, timeout=60)
        p_out = periph.communicate(timeout=30)[0]
    finally:
        periph.kill()
    return p_out.splitlines(), central.stdout.splitlines()


def test_bond_is_reused_after_restart_and_refused_once_lost(tmp_path):
    air, address = start_air(tmp_path)
    try:
        p, c = run_pair(address, tmp_path)
        bonded = "ENCRYPTION_UPDATE (1, 0, 1, 16)"
        # As NimBLE: the encryption update as soon as the keys are exchanged, then the bond is stored.
        assert p == [bonded, "SET_SECRET peer record store"]
        assert c == [bonded, "SET_SECRET peer record store"]
        # Both boards restart as new processes: encryption with the stored keys, no pairing.
        p, c = run_pair(address, tmp_path)
        assert p == [bonded] and c == [bonded]
        # The peripheral loses its bond: the central's stored key is refused, and both see it.
        os.remove(tmp_path / "p.json")
        p, c = run_pair(address, tmp_path)
        assert c == ["ENCRYPTION_UPDATE (0, 0, 0, 0)"]
        assert p == ["ENCRYPTION_UPDATE (0, 0, 0, 0)"]
    finally:
        air.terminate()
        air.wait(5)
