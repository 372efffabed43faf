"""Connection parameter updates (extension gap_connection_update) and _IRQ_CONNECTION_UPDATE."""

import errno

import pytest

from test_irq_delivery import wait_until
from test_security import Board, connect_pair

IRQ_CONNECTION_UPDATE = 27


@pytest.mark.parametrize("side", ["central", "peripheral"])
def test_update_reported_on_both_sides(radio, side):
    p, c, conn, pconn, _ = connect_pair(radio)
    assert not p.of(IRQ_CONNECTION_UPDATE) and not c.of(IRQ_CONNECTION_UPDATE)  # never spontaneous
    if side == "central":
        c.ble.gap_connection_update(conn, 15000, 15000, 0, 2000)
    else:
        p.ble.gap_connection_update(pconn, 15000, 15000, 0, 2000)
    wait_until(lambda: p.of(IRQ_CONNECTION_UPDATE) and c.of(IRQ_CONNECTION_UPDATE))
    # interval in 1.25 ms units, latency, timeout in 10 ms units, status
    assert c.of(IRQ_CONNECTION_UPDATE)[-1][1:] == (12, 0, 200, 0)
    assert p.of(IRQ_CONNECTION_UPDATE)[-1][1:] == (12, 0, 200, 0)
    info = c.ble.gap_connection_info(conn)
    assert info["interval_us"] == 15000 and info["role"] == "central"
    assert p.ble.gap_connection_info(pconn)["role"] == "peripheral"


def test_bad_parameters(radio):
    p, c, conn, _, _ = connect_pair(radio)
    with pytest.raises(ValueError):
        c.ble.gap_connection_update(conn, 5000, 10000)
    with pytest.raises(ValueError):
        c.ble.gap_connection_update(conn, 20000, 10000)
    with pytest.raises(OSError) as e:
        c.ble.gap_connection_update(conn + 10, 20000, 30000)
    assert e.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as e:
        c.ble.gap_connection_info(conn + 10)
    assert e.value.errno == errno.ENOTCONN


def test_initial_interval_from_gap_connect(radio):
    p = Board(radio)
    c = Board(radio)
    p.ble.active(True)
    c.ble.active(True)
    p.ble.gap_advertise(20000)
    c.ble.gap_connect(*p.ble.config("mac"), 2000, 7500, 7500)
    wait_until(lambda: c.of(7))
    assert c.ble.gap_connection_info(c.of(7)[0][0])["interval_us"] == 7500
