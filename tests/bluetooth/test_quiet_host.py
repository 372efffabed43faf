"""The port's host skips Bumble's per-packet debug lines only while nobody would see them:
with `bumble.host` at DEBUG every HCI packet is logged as Bumble logs it."""

import logging


def _hci_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "bumble.host" and "CONTROLLER" in r.getMessage()]


def test_debug_logging_shows_every_packet(boards, caplog):
    with caplog.at_level(logging.DEBUG, logger="bumble.host"):
        (ble,) = boards(1)
        ble.active(True)
        ble.gap_advertise(20000)
        ble.gap_advertise(None)
    lines = _hci_lines(caplog)
    assert any("HOST -> CONTROLLER" in line for line in lines), lines[:5]
    assert any("CONTROLLER -> HOST" in line for line in lines), lines[:5]


def test_no_lines_built_when_debug_is_off(boards, caplog, monkeypatch):
    from bumble.host import Host

    calls = []
    for name in ("send_hci_packet", "on_hci_packet"):
        original = getattr(Host, name)

        def counted(self, packet, original=original, name=name):
            calls.append((name, type(packet).__name__))
            return original(self, packet)

        monkeypatch.setattr(Host, name, counted)
    with caplog.at_level(logging.INFO, logger="bumble.host"):
        a, b = boards(2)
        a.active(True)
        b.active(True)
        a.gap_advertise(20000)
        b.gap_connect(*a.config("mac"))
        a.gap_advertise(None)
    # Bumble's formatting paths ran for nothing but the rare packet kinds we hand back.
    assert not [c for c in calls if c[1] in ("HCI_AclDataPacket",) or c[1].endswith("_Event")], calls[:10]
    assert not [c for c in calls if c[0] == "send_hci_packet"], calls[:10]
