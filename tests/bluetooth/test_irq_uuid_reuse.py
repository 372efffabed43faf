"""Discovery irqs hand out one UUID object, overwritten for each result, as MicroPython does
(modbluetooth.c keeps it in the BLE object): code that stores it without copying is wrong on
a board, and must be wrong here too; a copy (bluetooth.UUID(uuid)) keeps its value."""

from bluetooth import UUID
from test_irq_delivery import connect, wait_until

IRQ_GATTC_SERVICE_RESULT = 9
IRQ_GATTC_SERVICE_DONE = 10
IRQ_GATTC_CHARACTERISTIC_RESULT = 11
IRQ_GATTC_CHARACTERISTIC_DONE = 12


def test_discovery_results_share_one_uuid_object(boards):
    periph, central = boards(2)
    periph.active(True)
    central.active(True)
    periph.gatts_register_services(
        [(UUID(0xAB00), [(UUID(0xAB01), 0x02), (UUID(0xAB02), 0x02)]), (UUID(0xCD00), [(UUID(0xCD01), 0x02)])]
    )
    p_events, c_events = [], []
    kept, copies, seen = [], [], []

    def c_irq(event, data):
        if event in (IRQ_GATTC_SERVICE_RESULT, IRQ_GATTC_CHARACTERISTIC_RESULT):
            kept.append(data[-1])  # the mistake: no copy
            copies.append(UUID(data[-1]))
            seen.append(str(data[-1]))  # what the handler saw while it ran
        c_events.append((event, tuple(data[:1])))

    periph.irq(lambda e, d: p_events.append((e, tuple(d))))
    central.irq(c_irq)
    conn = connect(central, periph, c_events, p_events)
    central.gattc_discover_services(conn)
    wait_until(lambda: any(e == IRQ_GATTC_SERVICE_DONE for e, _ in c_events))
    central.gattc_discover_characteristics(conn, 1, 0xFFFF)
    wait_until(lambda: any(e == IRQ_GATTC_CHARACTERISTIC_DONE for e, _ in c_events))

    ours = [UUID(0xAB00), UUID(0xCD00), UUID(0xAB01), UUID(0xAB02), UUID(0xCD01)]
    assert [c for c in copies if c in ours] == ours  # copies keep each value
    names = [str(u) for u in ours]
    assert [s for s in seen if s in names] == names  # each was right while its handler ran
    assert len({id(u) for u in kept}) == 1  # one object, as on a board
    assert all(u == copies[-1] for u in kept)  # it holds the last result
