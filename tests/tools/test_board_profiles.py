"""Board profiles: the data cites its sources, and a virtual board takes on its board's stack limits."""

import errno
import os
import subprocess
import sys
import time

import pytest

import bluetooth
from bleboard.tools import board_profiles, boards

IRQ_CENTRAL_CONNECT = 1
IRQ_PERIPHERAL_CONNECT = 7


@pytest.fixture
def radio():
    from bleboard.radio.local import LocalRadio

    return LocalRadio(latency="fast")


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


# ---- the data ---------------------------------------------------------------

def test_every_modelled_number_names_its_source():
    for name, p in board_profiles.families().items():
        for field in ("max_connections", "mtu", "max_mtu", "conn_interval_us"):
            if p.get(field) is not None:
                assert p["sources"].get(field), "%s: %s has no source" % (name, field)
        assert p["sources"].get("features"), name
        assert set(p["features"]) == set(board_profiles.FEATURE_METHODS), name
        assert p["full_errno"] in ("ENOMEM", "ENOTCONN")


def test_boards_map_to_a_family_through_the_board_database():
    mapped = 0
    for b in boards.load():
        if b["ble"] in board_profiles.load()["by_ble"]:
            name, _ = board_profiles.resolve(b["id"])
            assert name in board_profiles.families()
            mapped += 1
    assert mapped > 100
    assert board_profiles.resolve("raspberry_pi_pico_w")[0] == "micropython-btstack-cyw43"
    assert board_profiles.settings("micropython-nimble-esp32")["max_connections"] == 4


def test_unknown_board_names_the_choices():
    with pytest.raises(board_profiles.UnknownProfile) as e:
        board_profiles.resolve("no_such_board_xyz")
    assert "micropython-nimble-esp32" in str(e.value)


def test_features_table_from_the_cli():
    out = subprocess.run([sys.executable, "-m", "bleboard", "boards", "--features", "raspberry_pi_pico_w"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "max connections:  1" in out.stdout
    assert "pairing:          no" in out.stdout and "l2cap:            no" in out.stdout
    assert "MAX_NR_HCI_CONNECTIONS" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "bleboard", "boards", "--features", "no_such_board_xyz"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "unknown board" in bad.stderr


# ---- features: absent methods, as on the firmware ---------------------------

def test_compiled_out_methods_are_absent(radio):
    pico = bluetooth.BLE.new(radio=radio, board="raspberry_pi_pico_w")
    esp = bluetooth.BLE.new(radio=radio, board="micropython-nimble-esp32")
    plain = bluetooth.BLE.new(radio=radio)
    assert not hasattr(pico, "gap_pair") and not hasattr(pico, "l2cap_listen")
    assert hasattr(pico, "gap_connect") and hasattr(pico, "gattc_read")
    assert hasattr(esp, "gap_pair") and not hasattr(esp, "l2cap_connect")
    assert hasattr(plain, "gap_pair") and hasattr(plain, "l2cap_listen")
    # bleboard's own extensions are not on any MicroPython firmware
    assert not hasattr(pico, "gap_connection_info") and not hasattr(esp, "gatts_set_length")
    assert hasattr(plain, "gap_connection_info")
    with pytest.raises(AttributeError) as e:
        pico.gap_pair(0)
    assert "gap_pair" in str(e.value)
    with pytest.raises(ValueError):
        pico.config(bond=True)  # the key exists only with pairing compiled in
    esp.config(bond=True)


def test_hci_coprocessor_boards_are_peripheral_only(radio):
    ble = bluetooth.BLE.new(radio=radio, board="circuitpython-hci")
    assert not hasattr(ble, "gap_scan") and not hasattr(ble, "gap_connect")
    assert hasattr(ble, "gap_advertise") and hasattr(ble, "gatts_notify")
    assert hasattr(ble, "gatts_get_cccd")  # _bleio does through it what CircuitPython's does natively


def test_class_level_detection_follows_the_environment():
    code = "import bluetooth; print(hasattr(bluetooth.BLE, 'l2cap_listen'), hasattr(bluetooth.BLE, 'gap_pair'))"
    env = dict(os.environ, BLEBOARD_BOARD="raspberry_pi_pico_w")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
    env.pop("BLEBOARD_BOARD")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr


# ---- limits -------------------------------------------------------------------

class Recorder:
    def __init__(self, ble):
        self.ble = ble
        self.events = []
        ble.irq(lambda e, d: self.events.append((e, tuple(bytes(x) if isinstance(x, memoryview) else x for x in d))))

    def of(self, event):
        return [d for e, d in self.events if e == event]


def _peripherals(radio, n):
    made = []
    for _ in range(n):
        p = Recorder(bluetooth.BLE.new(radio=radio))
        p.ble.active(True)
        p.ble.gap_advertise(20000)
        made.append(p)
    return made


def test_btstack_central_with_its_one_connection_used_gets_enotconn(radio):
    c = Recorder(bluetooth.BLE.new(radio=radio, board="raspberry_pi_pico_w"))
    c.ble.active(True)
    p1, p2 = _peripherals(radio, 2)
    c.ble.gap_connect(*p1.ble.config("mac"))
    wait_until(lambda: c.of(IRQ_PERIPHERAL_CONNECT))
    with pytest.raises(OSError) as e:
        c.ble.gap_connect(*p2.ble.config("mac"))
    assert e.value.errno == errno.ENOTCONN
    for b in (c, p1, p2):
        b.ble.active(False)


def test_default_interval_follows_the_stack(radio):
    """gap_connect with no interval: BTstack asks for 10-30 ms, NimBLE for 30-50 ms (read on
    the plain peripheral: the firmware has no gap_connection_info)."""
    got = {}
    for board in ("raspberry_pi_pico_w", "micropython-nimble-esp32"):
        c = Recorder(bluetooth.BLE.new(radio=radio, board=board))
        c.ble.active(True)
        (p,) = _peripherals(radio, 1)
        c.ble.gap_connect(*p.ble.config("mac"))
        wait_until(lambda p=p: p.of(IRQ_CENTRAL_CONNECT))
        got[board] = p.ble.gap_connection_info(p.of(IRQ_CENTRAL_CONNECT)[0][0])["interval_us"]
        c.ble.active(False)
        p.ble.active(False)
    assert 10000 <= got["raspberry_pi_pico_w"] <= 30000 <= got["micropython-nimble-esp32"] <= 50000
    assert got["raspberry_pi_pico_w"] < got["micropython-nimble-esp32"]


def test_nimble_with_four_connections_refuses_with_enomem(radio):
    c = Recorder(bluetooth.BLE.new(radio=radio, board="micropython-nimble-esp32"))
    c.ble.active(True)
    peers = _peripherals(radio, 5)
    for n, p in enumerate(peers[:4], 1):
        c.ble.gap_connect(*p.ble.config("mac"))
        wait_until(lambda n=n: len(c.of(IRQ_PERIPHERAL_CONNECT)) == n)
    with pytest.raises(OSError) as e:
        c.ble.gap_connect(*peers[4].ble.config("mac"))
    assert e.value.errno == errno.ENOMEM
    with pytest.raises(OSError) as e:
        c.ble.gap_advertise(20000)  # connectable advertising needs a free connection
    assert e.value.errno == errno.ENOMEM
    c.ble.gap_advertise(20000, connectable=False)  # a broadcaster needs none
    c.ble.gap_advertise(None)
    c.ble.gap_disconnect(c.of(IRQ_PERIPHERAL_CONNECT)[0][0])
    wait_until(lambda: c.of(8))
    c.ble.gap_connect(*peers[4].ble.config("mac"))  # room again
    wait_until(lambda: len(c.of(IRQ_PERIPHERAL_CONNECT)) == 5)
    for b in [c] + peers:
        b.ble.active(False)


# ---- the runner kind -----------------------------------------------------------

def test_runner_kind_virtual_board_id():
    from bleboard.testing.instance import InstanceError, InstanceSpec
    from bleboard.testing.multitest import Runner

    multi = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "multi")
    pico = InstanceSpec("virtual:raspberry_pi_pico_w")
    assert pico.kind == "virtual" and pico.argv[-2:] == ["--board", "raspberry_pi_pico_w"]
    with pytest.raises(InstanceError):
        InstanceSpec("virtual:no_such_board_xyz")
    with Runner(latency="fast") as runner:
        result = runner.run_test(os.path.join(multi, "ble_gap_pair.py"), [pico, pico])
    assert result.verdict == "skip", result.failure_report()  # no gap_pair on the Pico W's firmware


def test_bleio_on_an_airlift_board_is_peripheral_only():
    code = (
        "import _bleio\n"
        "a = _bleio.adapter\n"
        "a.enabled = True\n"
        "for call in (lambda: a.start_scan(), lambda: a.connect(_bleio.Address(bytes(6), 0), timeout=1)):\n"
        "    try:\n"
        "        call()\n"
        "        print('allowed')\n"
        "    except NotImplementedError:\n"
        "        print('NotImplementedError')\n"
    )
    out = subprocess.run([sys.executable, "-m", "bleboard", "run", "--board", "circuitpython-hci", "-c", code],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["NotImplementedError", "NotImplementedError"], out.stderr


def test_run_board_option():
    code = "import bluetooth; b = bluetooth.BLE(); print(hasattr(b, 'gap_pair'), hasattr(b, 'gap_scan'))"
    out = subprocess.run([sys.executable, "-m", "bleboard", "run", "--board", "raspberry_pi_pico_w", "-c", code],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr
    bad = subprocess.run([sys.executable, "-m", "bleboard", "run", "--board", "no_such_board_xyz", "-c", "print(1)"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--board" in bad.stderr and "micropython-btstack-cyw43" in bad.stderr
    assert bad.stdout == ""
