"""The binding/port boundary (bluetooth._port) is a checked interface.

* mypy proves BumblePort satisfies `Port` and the binding's sink satisfies `EventSink`;
* the binding loads without the port (no import cycle) and the port takes nothing from
  `bluetooth` but the contract module;
* the port and the scheduler are injected: a second, minimal port drives the binding, and
  the binding alone turns its typed callbacks into MicroPython's irq tuples.
"""

import ast
import contextlib
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

import bluetooth
from bluetooth import _port

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PORT_DIR = SRC / "bleboard" / "port"


def _python(code):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_bumble_port_and_sink_type_check_against_the_contract(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is missing: install the test extra (pip install -e '.[test]')")
    check = pathlib.Path(__file__).with_name("port_contract_check.py")
    # In the same run, a port that lacks a method and one whose method takes other
    # arguments must be refused: the check above is not vacuous.
    broken = tmp_path / "broken_port.py"
    broken.write_text(
        "from bleboard.port.stack import BumblePort\n"
        "from bluetooth._port import Port\n"
        "class Partial:\n"
        "    def start(self, sink, settings): pass\n"
        "class OtherScan(BumblePort):\n"
        "    def scan(self, duration_ms): pass\n"
        "partial: Port = Partial()\n"
        "other: Port = OtherScan({})\n"
    )
    env = dict(os.environ, MYPYPATH=str(SRC))
    # Bumble's own typing gaps are not ours to fix: its modules are read but not reported.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--python-version", "3.11",
         "--cache-dir", str(tmp_path / "mypy"), "--no-color-output", "--no-error-summary", str(check), str(broken)],
        capture_output=True, text=True, env=env, timeout=280, cwd=ROOT,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if "port_contract_check.py" in e], result.stdout + result.stderr
    assert [e.split(":")[1] for e in errors if "broken_port.py" in e] == ["7", "8"], result.stdout + result.stderr


def test_the_binding_imports_neither_the_port_nor_bumble():
    out = _python(
        "import sys, bluetooth, bluetooth._port, bluetooth._sink\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bleboard.port', 'bleboard.runtime', 'bumble'))))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_port_imports_first_without_a_cycle():
    out = _python("import bleboard.port.stack, bluetooth; print(bluetooth.BLE.__name__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "BLE"


def _bluetooth_imports(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bluetooth":
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bluetooth":
                    yield alias.name, []


def test_the_port_takes_only_the_contract_from_the_binding():
    found = {}
    for path in sorted(PORT_DIR.glob("*.py")):
        for module, names in _bluetooth_imports(path):
            found.setdefault(path.name, []).append(module)
            assert module == "bluetooth._port", "%s imports %s %s" % (path.name, module, names)
    assert "stack.py" in found  # the check sees the port's imports at all


# ---- injection: a second port, as small as the contract allows ------------------------------


class Immediate:
    """A scheduler that runs each handler at once on the calling thread."""

    def __init__(self):
        self.calls = 0

    def call(self, fn, *args):
        self.calls += 1
        fn(*args)

    def hold(self):
        return contextlib.nullcontext()

    def on_consumer_thread(self):
        return True


class LoopbackPort:
    """A port with no radio: it keeps what the binding asked for and lets the test raise events."""

    def __init__(self, options):
        self.options = options
        self.sink = None
        self.active = False
        self.calls = []
        self.irk = None
        port = self

        class Security:
            def pair(self, conn_handle):
                port.calls.append(("pair", conn_handle))

            def passkey(self, conn_handle, action, passkey):
                port.calls.append(("passkey", conn_handle, action, passkey))

            def set_irk(self, irk):
                port.irk = irk

        self.security = Security()

    def start(self, sink, settings):
        self.sink, self.active = sink, True

    def stop(self):
        self.active = False

    def close(self):
        self.active = False

    def is_active(self):
        return self.active

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name,) + args)

        return record


def _loopback():
    made = []

    def factory(options):
        made.append(LoopbackPort(options))
        return made[-1]

    sched = Immediate()
    ble = bluetooth.BLE.new(port_factory=factory, scheduler=sched, tag="x")
    return ble, made, sched


def test_the_injected_port_and_scheduler_are_used():
    ble, made, sched = _loopback()
    seen = []
    ble.irq(lambda event, data: seen.append(event))
    assert ble.active(True) is True
    assert len(made) == 1 and made[0].options == {"tag": "x"}  # the factory's own options are not passed on
    assert made[0].irk is not None and len(made[0].irk) == 16  # identity key asked for, then set
    assert seen == [_port.IRQ_GET_SECRET, _port.IRQ_SET_SECRET]
    assert sched.calls == 0  # those two are asked synchronously on the consumer thread
    ble.gattc_discover_services(5, bluetooth.UUID(0x180F))
    ble.gap_pair(5)
    assert made[0].calls == [("discover_services", 5, b"\x0f\x18"), ("pair", 5)]


def _record(ble):
    seen = []

    def handler(event, data):
        seen.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))
        return answers.get(event)

    answers = {}
    ble.irq(handler)
    return seen, answers


ADDR = bytes.fromhex("c0ffee000001")


@pytest.mark.parametrize("method, args, irq, data", [
    ("on_central_connect", (1, 1, ADDR), 1, (1, 1, ADDR)),
    ("on_central_disconnect", (1, 0, ADDR), 2, (1, 0, ADDR)),
    ("on_scan_result", (1, ADDR, 0, -40, b"\x02\x01\x06"), 5, (1, ADDR, 0, -40, b"\x02\x01\x06")),
    ("on_scan_done", (), 6, ()),
    ("on_peripheral_connect", (2, 0, ADDR), 7, (2, 0, ADDR)),
    ("on_peripheral_disconnect", (0xFFFF, 0xFF, bytes(6)), 8, (0xFFFF, 0xFF, bytes(6))),
    ("on_gattc_service_result", (2, 1, 5, b"\x0f\x18"), 9, (2, 1, 5, bluetooth.UUID(0x180F))),
    ("on_gattc_service_done", (2, 0), 10, (2, 0)),
    ("on_gattc_characteristic_result", (2, 9, 3, 0x12, b"\x19\x2a"), 11, (2, 9, 3, 0x12, bluetooth.UUID(0x2A19))),
    ("on_gattc_characteristic_done", (2, 0x10A), 12, (2, 0x10A)),
    ("on_gattc_descriptor_result", (2, 4, b"\x02\x29"), 13, (2, 4, bluetooth.UUID(0x2902))),
    ("on_gattc_descriptor_done", (2, 7), 14, (2, 7)),
    ("on_gattc_read_result", (2, 3, b"v"), 15, (2, 3, b"v")),
    ("on_gattc_read_done", (2, 3, 0), 16, (2, 3, 0)),
    ("on_gattc_write_done", (2, 3, 0), 17, (2, 3, 0)),
    ("on_gattc_notify", (2, 3, b"n"), 18, (2, 3, b"n")),
    ("on_gattc_indicate", (2, 3, b"i"), 19, (2, 3, b"i")),
    ("on_gatts_indicate_done", (1, 3, 13), 20, (1, 3, 13)),
    ("on_mtu_exchanged", (1, 185), 21, (1, 185)),
    ("on_l2cap_connect", (1, 64, 0x80, 512, 256), 23, (1, 64, 0x80, 512, 256)),
    ("on_l2cap_disconnect", (1, 64, 0x80, 0), 24, (1, 64, 0x80, 0)),
    ("on_l2cap_recv", (1, 64), 25, (1, 64)),
    ("on_l2cap_send_ready", (1, 64, 0), 26, (1, 64, 0)),
    ("on_connection_update", (1, 24, 0, 400, 0), 27, (1, 24, 0, 400, 0)),
    ("on_encryption_update", (1, 1, 1, 0, 16), 28, (1, 1, 1, 0, 16)),
    ("on_passkey_action", (1, 4, 123456), 31, (1, 4, 123456)),
])
def test_the_binding_builds_micropythons_irq_tuples(method, args, irq, data):
    ble, made, _ = _loopback()
    ble.active(True)
    seen, _ = _record(ble)
    getattr(made[0].sink, method)(*args)
    assert seen == [(irq, data)]


def test_answers_reach_the_port_converted():
    ble, made, _ = _loopback()
    ble.active(True)
    sink = made[0].sink
    seen, answers = _record(ble)
    got = []
    answers[22] = True  # MicroPython's int conversion: True is 1, a refusal
    sink.on_l2cap_accept(1, 64, 0x80, 512, 256, got.append)
    answers[29] = "stored"  # a str is a buffer of its UTF-8 bytes
    sink.on_get_secret(2, 0, b"key", got.append)
    answers[29] = 42  # not a buffer: no secret
    sink.on_get_secret(2, 1, None, got.append)
    answers[30] = True
    sink.on_set_secret(2, b"key", b"value", got.append)
    assert got == [1, b"stored", None, True]
    assert [e for e, _ in seen] == [22, 29, 29, 30]


def test_a_remote_write_is_stored_before_the_handler_runs():
    ble, made, _ = _loopback()
    ble.active(True)
    made[0].register_services = lambda services: ((3,),)
    (handle,), = ble.gatts_register_services([(bluetooth.UUID(0x180F), [(bluetooth.UUID(0x2A19), 0x08)])])
    values = []
    ble.irq(lambda event, data: values.append((event, tuple(data), ble.gatts_read(data[1]))))
    answered = []
    made[0].sink.on_gatts_write(1, handle, b"new", lambda: answered.append(True))
    made[0].sink.on_gatts_read_request(1, handle, lambda status, value: answered.append((status, value)))
    assert values == [(3, (1, handle), b"new"), (4, (1, handle), b"new")]
    assert answered == [True, (0, b"new")]


def test_a_soft_reset_keeps_the_injected_port_and_scheduler():
    ble, made, sched = _loopback()
    ble.active(True)
    old = bluetooth.BLE._singleton
    bluetooth.BLE._singleton = ble
    try:
        bluetooth.BLE._soft_reset()
        fresh = bluetooth.BLE._singleton
        assert fresh is not ble and fresh._port is made[0]  # the board keeps its radio
        assert fresh._events.sched is sched and fresh._port_factory is ble._port_factory
        assert fresh.active() is False
        fresh.active(True)
        assert len(made) == 1 and made[0].active  # restarted, not made anew
    finally:
        bluetooth.BLE._singleton = old
