"""irq handlers run as on a board: main thread, in order, buffers valid only during the call."""

import threading
import time

from bluetooth import UUID

IRQ_CENTRAL_CONNECT = 1
IRQ_GATTS_WRITE = 3
IRQ_SCAN_RESULT = 5
IRQ_SCAN_DONE = 6
IRQ_PERIPHERAL_CONNECT = 7
IRQ_GATTC_READ_RESULT = 15


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)  # handlers are delivered during the sleep


def connect(central, peripheral, c_events, p_events):
    peripheral.gap_advertise(20000)
    central.gap_connect(*peripheral.config("mac"))
    wait_until(lambda: any(e == IRQ_PERIPHERAL_CONNECT for e, _ in c_events))
    wait_until(lambda: any(e == IRQ_CENTRAL_CONNECT for e, _ in p_events))
    return [d for e, d in c_events if e == IRQ_PERIPHERAL_CONNECT][0][0]


def test_handlers_run_on_main_thread_in_order(boards):
    adv, scanner = boards(2)
    adv.active(True)
    scanner.active(True)
    seen = []

    def irq(event, data):
        seen.append((event, threading.current_thread() is threading.main_thread()))

    scanner.irq(irq)
    adv.gap_advertise(20000, b"\x02\x01\x06")
    scanner.gap_scan(0, 20000, 20000)
    wait_until(lambda: len(seen) >= 3)
    scanner.gap_scan(None)
    wait_until(lambda: any(e == IRQ_SCAN_DONE for e, _ in seen))
    assert all(on_main for _, on_main in seen)
    assert seen[-1][0] == IRQ_SCAN_DONE and seen[0][0] == IRQ_SCAN_RESULT
    assert {e for e, _ in seen} == {IRQ_SCAN_RESULT, IRQ_SCAN_DONE}


def test_buffers_are_released_after_the_call(boards):
    adv, scanner = boards(2)
    adv.active(True)
    scanner.active(True)
    kept = []

    def irq(event, data):
        if event == IRQ_SCAN_RESULT:
            addr = data[1]
            assert isinstance(addr, memoryview) and addr.readonly and len(addr) == 6
            kept.append((addr, bytes(data[4])))

    scanner.irq(irq)
    adv.gap_advertise(20000, b"\x02\x01\x06")
    scanner.gap_scan(100, 20000, 20000)
    wait_until(lambda: kept)
    scanner.gap_scan(None)
    view, copy = kept[0]
    assert copy == b"\x02\x01\x06"
    try:
        bytes(view)
    except ValueError:
        pass  # released, as on a board where the buffer is reused
    else:
        raise AssertionError("memoryview still usable after the handler returned")


def test_exception_uninstalls_handler(boards, capsys):
    adv, scanner = boards(2)
    adv.active(True)
    scanner.active(True)
    calls = []

    def irq(event, data):
        calls.append(event)
        raise RuntimeError("boom")

    scanner.irq(irq)
    adv.gap_advertise(20000, b"\x02\x01\x06")
    scanner.gap_scan(300, 20000, 20000)
    time.sleep(0.5)
    assert calls == [IRQ_SCAN_RESULT]  # later events were dropped: no handler any more
    out = capsys.readouterr().out
    assert "Unhandled exception in IRQ callback handler" in out and "boom" in out


def test_remote_write_visible_inside_handler_and_calls_from_handler(boards):
    periph, central = boards(2)
    periph.active(True)
    central.active(True)
    ((h,),) = periph.gatts_register_services([(UUID(0xAA00), [(UUID(0xAA01), 0x0A)])])
    p_events, c_events, values = [], [], []

    def p_irq(event, data):
        p_events.append((event, tuple(data[:1])))
        if event == IRQ_GATTS_WRITE:
            values.append(periph.gatts_read(data[1]))
            periph.gatts_write(h, b"answer")  # any BLE call is allowed in a handler

    periph.irq(p_irq)
    central.irq(lambda e, d: c_events.append((e, tuple(x if not isinstance(x, memoryview) else bytes(x) for x in d))))
    conn = connect(central, periph, c_events, p_events)
    for i in range(5):
        central.gattc_write(conn, h, b"w%d" % i)
    wait_until(lambda: len(values) == 5)
    assert values == [b"w0", b"w1", b"w2", b"w3", b"w4"]
    central.gattc_read(conn, h)
    wait_until(lambda: any(e == IRQ_GATTC_READ_RESULT for e, _ in c_events))
    assert [d[2] for e, d in c_events if e == IRQ_GATTC_READ_RESULT] == [b"answer"]
