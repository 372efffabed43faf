"""Link order across the two threads: responses before the sends that follow them."""

import time

from bluetooth import UUID
from test_irq_delivery import connect, wait_until

IRQ_GATTS_WRITE = 3
IRQ_GATTC_WRITE_DONE = 17
IRQ_GATTC_NOTIFY = 18
IRQ_MTU_EXCHANGED = 21


def test_notifications_from_write_handler_follow_the_response(boards):
    periph, central = boards(2)
    periph.active(True)
    central.active(True)
    ((h,),) = periph.gatts_register_services([(UUID(0xAB00), [(UUID(0xAB01), 0x1A)])])
    p_events, c_events = [], []

    def p_irq(event, data):
        p_events.append((event, tuple(data[:1])))
        if event == IRQ_GATTS_WRITE:
            periph.gatts_notify(data[0], data[1], b"n1")
            periph.gatts_notify(data[0], data[1], b"n2")

    def c_irq(event, data):
        c_events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))

    periph.irq(p_irq)
    central.irq(c_irq)
    conn = connect(central, periph, c_events, p_events)
    central.gattc_write(conn, h, b"x", 1)
    wait_until(lambda: sum(1 for e, _ in c_events if e == IRQ_GATTC_NOTIFY) == 2)
    tail = [(e, d[-1]) for e, d in c_events if e in (IRQ_GATTC_WRITE_DONE, IRQ_GATTC_NOTIFY)]
    assert tail == [(IRQ_GATTC_WRITE_DONE, 0), (IRQ_GATTC_NOTIFY, b"n1"), (IRQ_GATTC_NOTIFY, b"n2")]


def test_mtu_set_just_before_exchange_is_used(boards):
    periph, central = boards(2)
    periph.active(True)
    central.active(True)
    p_events, c_events = [], []
    periph.irq(lambda e, d: p_events.append((e, tuple(d))))
    central.irq(lambda e, d: c_events.append((e, tuple(x for x in d if not isinstance(x, memoryview)))))
    conn = connect(central, periph, c_events, p_events)
    central.config(mtu=100)
    central.gattc_exchange_mtu(conn)
    wait_until(lambda: any(e == IRQ_MTU_EXCHANGED for e, _ in c_events))
    wait_until(lambda: any(e == IRQ_MTU_EXCHANGED for e, _ in p_events))
    assert [d[1] for e, d in c_events if e == IRQ_MTU_EXCHANGED] == [100]
    assert [d[1] for e, d in p_events if e == IRQ_MTU_EXCHANGED] == [100]
    time.sleep(0.05)
