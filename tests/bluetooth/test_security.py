"""Pairing and bonding through Bumble's SMP, with the application owning keys and passkeys."""

import pytest

import bluetooth
from bluetooth import UUID
from test_irq_delivery import wait_until

IRQ_PERIPHERAL_CONNECT = 7
IRQ_CENTRAL_CONNECT = 1
IRQ_GATTC_READ_RESULT = 15
IRQ_GATTC_READ_DONE = 16
IRQ_GATTC_WRITE_DONE = 17
IRQ_ENCRYPTION_UPDATE = 28
IRQ_GET_SECRET = 29
IRQ_SET_SECRET = 30
IRQ_PASSKEY_ACTION = 31

FLAG_READ, FLAG_WRITE = 0x0002, 0x0008
FLAG_READ_ENCRYPTED, FLAG_READ_AUTHENTICATED, FLAG_WRITE_ENCRYPTED = 0x0200, 0x0400, 0x1000


class Board:
    """One board with a dict secret store and scripted passkey answers."""

    def __init__(self, radio, **config):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.events = []
        self.secrets = {}
        self.passkey = 123456
        self.accept = 1
        if config:
            self.ble.config(**config)
        self.ble.irq(self.irq)

    def irq(self, event, data):
        data = tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)
        self.events.append((event, data))
        if event == IRQ_GET_SECRET:
            sec_type, index, key = data
            if key is None:
                values = [v for (t, _), v in sorted(self.secrets.items()) if t == sec_type]
                return values[index] if index < len(values) else None
            return self.secrets.get((sec_type, key))
        if event == IRQ_SET_SECRET:
            sec_type, key, value = data
            if value is None:
                return self.secrets.pop((sec_type, key), None) is not None
            self.secrets[(sec_type, key)] = value
            return True
        if event == IRQ_PASSKEY_ACTION:
            conn, action, number = data
            self.ble.gap_passkey(conn, action, self.accept if action == 4 else self.passkey)
        return None

    def of(self, event):
        return [d for e, d in self.events if e == event]


def connect_pair(radio, p_config=None, c_config=None, services=None):
    p, c = Board(radio, **(p_config or {})), Board(radio, **(c_config or {}))
    p.ble.active(True)
    c.ble.active(True)
    handles = p.ble.gatts_register_services(services) if services else ()
    p.ble.gap_advertise(20000)
    c.ble.gap_connect(*p.ble.config("mac"))
    wait_until(lambda: c.of(IRQ_PERIPHERAL_CONNECT) and p.of(IRQ_CENTRAL_CONNECT))
    return p, c, c.of(IRQ_PERIPHERAL_CONNECT)[0][0], p.of(IRQ_CENTRAL_CONNECT)[0][0], handles


def updates(board):
    return [d[1:] for d in board.of(IRQ_ENCRYPTION_UPDATE)]


def test_identity_key_is_asked_for_and_stored_at_start(radio):
    b = Board(radio)
    b.ble.active(True)
    assert b.of(IRQ_GET_SECRET)[0] == (10, 0, b"irk")
    (stored,) = b.of(IRQ_SET_SECRET)
    assert stored[:2] == (10, b"irk") and len(stored[2]) == 16
    b.ble.active(False)
    b.events.clear()
    b.ble.active(True)
    assert b.of(IRQ_GET_SECRET) == [(10, 0, b"irk")] and b.of(IRQ_SET_SECRET) == []


@pytest.mark.parametrize("initiator", ["central", "peripheral"])
def test_just_works_no_bond(radio, initiator):
    p, c, conn, pconn, _ = connect_pair(radio)
    (c.ble.gap_pair(conn) if initiator == "central" else p.ble.gap_pair(pconn))
    wait_until(lambda: updates(c) and updates(p))
    assert updates(c) == [(1, 0, 0, 16)] and updates(p) == [(1, 0, 0, 16)]
    assert not [d for d in c.of(IRQ_SET_SECRET) if d[0] != 10]  # nothing stored without bonding


def test_just_works_bonded_stores_keys_on_both_sides(radio):
    p, c, conn, _, _ = connect_pair(radio, {"bond": True}, {"bond": True})
    c.ble.gap_pair(conn)
    # The update comes first, then the bond is stored (NimBLE's order).
    wait_until(lambda: all(any(d[0] == 2 for d in b.of(IRQ_SET_SECRET)) for b in (p, c)))
    assert updates(c) == [(1, 0, 1, 16)] and updates(p) == [(1, 0, 1, 16)]
    for board in (p, c):
        (record,) = [d for d in board.of(IRQ_SET_SECRET) if d[0] == 2]
        assert len(record[1]) == 7 and record[2]


def test_mitm_with_no_io_is_still_just_works(radio):
    p, c, conn, _, _ = connect_pair(radio, {"mitm": True}, {"mitm": True})
    c.ble.gap_pair(conn)
    wait_until(lambda: updates(c) and updates(p))
    assert updates(c) == [(1, 0, 0, 16)]


@pytest.mark.parametrize("le_secure", [True, False])
def test_passkey_entry(radio, le_secure):
    p, c, conn, _, _ = connect_pair(
        radio, {"io": 0, "mitm": True, "le_secure": le_secure}, {"io": 2, "mitm": True, "le_secure": le_secure})
    c.ble.gap_pair(conn)
    wait_until(lambda: updates(c) and updates(p))
    assert [d[1] for d in p.of(IRQ_PASSKEY_ACTION)] == [3]  # display: the application picks it
    assert [d[1] for d in c.of(IRQ_PASSKEY_ACTION)] == [2]  # input: the application types it
    assert updates(c) == [(1, 1, 0, 16)] and updates(p) == [(1, 1, 0, 16)]


def test_wrong_passkey_fails(radio):
    p, c, conn, _, _ = connect_pair(radio, {"io": 0, "mitm": True}, {"io": 2, "mitm": True})
    c.passkey = 654321
    c.ble.gap_pair(conn)
    wait_until(lambda: updates(c) and updates(p), timeout=10)
    assert updates(c)[-1][0] == 0 and updates(p)[-1][0] == 0


@pytest.mark.parametrize("accept", [1, 0])
def test_numeric_comparison(radio, accept):
    p, c, conn, _, _ = connect_pair(radio, {"io": 1, "mitm": True}, {"io": 1, "mitm": True})
    c.accept = accept
    c.ble.gap_pair(conn)
    wait_until(lambda: updates(c) and updates(p), timeout=10)
    (p_action,), (c_action,) = p.of(IRQ_PASSKEY_ACTION), c.of(IRQ_PASSKEY_ACTION)
    assert p_action[1] == c_action[1] == 4 and p_action[2] == c_action[2] and 0 <= p_action[2] <= 999999
    expected = (1, 1, 0, 16) if accept else (0, 0, 0, 0)
    assert updates(c)[-1] == expected and updates(p)[-1] == expected


# KeyboardDisplay (io=4) against every other capability, as the Core spec's pairing method
# table maps them (Vol 3, Part H, 2.3.5.1): (central io, peripheral io, LE secure) ->
# (central's passkey actions, peripheral's, authenticated). The central initiates.
KEYBOARD_DISPLAY_CASES = [
    (4, 4, True, [4], [4], 1),     # both can confirm: numeric comparison
    (4, 4, False, [3], [2], 1),    # legacy: the initiator displays, the responder types
    (4, 0, True, [2], [3], 1),     # responder DisplayOnly displays, initiator types
    (2, 4, True, [2], [3], 1),     # initiator KeyboardOnly types what the responder shows
    (4, 2, False, [3], [2], 1),    # responder KeyboardOnly types what the initiator shows
    (3, 4, True, [], [], 0),       # NoInputNoOutput: just works, not authenticated
]


@pytest.mark.parametrize("c_io, p_io, le_secure, c_actions, p_actions, authenticated", KEYBOARD_DISPLAY_CASES)
def test_keyboard_display_pairing_methods(radio, c_io, p_io, le_secure, c_actions, p_actions, authenticated):
    p, c, conn, _, _ = connect_pair(radio, {"io": p_io, "mitm": True, "le_secure": le_secure},
                                    {"io": c_io, "mitm": True, "le_secure": le_secure})
    # Whoever displays tells the other side's "user" the passkey it chose.
    p.passkey = c.passkey = 246810
    c.ble.gap_pair(conn)
    wait_until(lambda: updates(c) and updates(p), timeout=10)
    assert [d[1] for d in c.of(IRQ_PASSKEY_ACTION)] == c_actions
    assert [d[1] for d in p.of(IRQ_PASSKEY_ACTION)] == p_actions
    assert updates(c)[-1] == updates(p)[-1] == (1, authenticated, 0, 16)


def test_attribute_permissions(radio):
    services = [(UUID(0xE000), [(UUID(0xE001), FLAG_READ | FLAG_READ_ENCRYPTED),
                                (UUID(0xE002), FLAG_READ | FLAG_READ_AUTHENTICATED),
                                (UUID(0xE003), FLAG_WRITE | FLAG_WRITE_ENCRYPTED)])]
    p, c, conn, _, handles = connect_pair(radio, services=services)
    ((h_enc, h_auth, h_wenc),) = handles
    p.ble.gatts_write(h_enc, b"enc")
    p.ble.gatts_write(h_auth, b"auth")

    def read(h):
        before = len(c.of(IRQ_GATTC_READ_DONE))
        c.ble.gattc_read(conn, h)
        wait_until(lambda: len(c.of(IRQ_GATTC_READ_DONE)) > before)
        return c.of(IRQ_GATTC_READ_DONE)[-1][2]

    def write(h):
        before = len(c.of(IRQ_GATTC_WRITE_DONE))
        c.ble.gattc_write(conn, h, b"x", 1)
        wait_until(lambda: len(c.of(IRQ_GATTC_WRITE_DONE)) > before)
        return c.of(IRQ_GATTC_WRITE_DONE)[-1][2]

    assert read(h_enc) == 0x105 and read(h_auth) == 0x105 and write(h_wenc) == 0x105
    assert not c.of(IRQ_GATTC_READ_RESULT)  # the data never left the server
    c.ble.gap_pair(conn)  # just works: encrypted, not authenticated
    wait_until(lambda: updates(c))
    assert read(h_enc) == 0 and c.of(IRQ_GATTC_READ_RESULT)[-1][2] == b"enc"
    assert read(h_auth) == 0x105
    assert write(h_wenc) == 0


def test_gap_pair_from_the_connect_handler_even_when_link_setup_is_slow(radio, monkeypatch):
    """CONNECT is raised only once every part of the port is ready for the link: a handler
    that pairs at once never finds the link half set up (it did, under load)."""
    import time

    from bleboard.port.security import Security

    original = Security.watch

    def slow_watch(self, link):
        time.sleep(0.2)  # the radio thread is slow here; the application is quick
        original(self, link)

    monkeypatch.setattr(Security, "watch", slow_watch)
    p, c = Board(radio), Board(radio)
    errors = []

    def pair_at_once(event, data):
        if event == IRQ_PERIPHERAL_CONNECT:
            try:
                c.ble.gap_pair(data[0])
            except Exception as exc:  # recorded for the assertion
                errors.append(exc)
        return Board.irq(c, event, data)

    c.ble.irq(pair_at_once)
    p.ble.active(True)
    c.ble.active(True)
    p.ble.gap_advertise(20000)
    c.ble.gap_connect(*p.ble.config("mac"))
    wait_until(lambda: updates(c) and updates(p), timeout=10)
    assert errors == []
    assert updates(c) == [(1, 0, 0, 16)] and updates(p) == [(1, 0, 0, 16)]
