# Ping-pong for bench/bench_firmware.py: the client writes (no response), the server
# notifies the value back from its write handler; the client times ROUNDS round trips.
# Plain MicroPython `bluetooth`, so either side can be real firmware or a virtual board.
from micropython import const
import time, machine, bluetooth

_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)

ROUNDS = 200
SERVICE = bluetooth.UUID("b0a7e000-0000-4000-8000-00805f9b0001")
CHAR = bluetooth.UUID("b0a7e000-0001-4000-8000-00805f9b0001")

state = {"conn": None, "notified": 0, "done": 0, "gone": False}


def irq(event, data):
    if event == _IRQ_GATTS_WRITE:
        ble.gatts_notify(data[0], data[1], ble.gatts_read(data[1]))
    elif event == _IRQ_PERIPHERAL_CONNECT:
        state["conn"] = data[0]
    elif event == _IRQ_GATTC_NOTIFY:
        state["notified"] += 1
    elif event == _IRQ_GATTC_WRITE_DONE:
        state["done"] += 1
    elif event == _IRQ_CENTRAL_DISCONNECT:
        state["gone"] = True


def until(key, value, timeout_ms=10000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while state[key] != value:
        if time.ticks_diff(deadline, time.ticks_ms()) < 0:
            raise OSError("timeout waiting for %s" % key)
        machine.idle()


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


def instance0():
    ((h,),) = ble.gatts_register_services(((SERVICE, ((CHAR, 0x001C),)),))  # write, write-no-rsp, notify
    multitest.globals(BDADDR=ble.config("mac"), HANDLE=h)
    ble.gap_advertise(20000, b"\x02\x01\x06")
    multitest.next()
    until("gone", True, 60000)
    print("served")


def instance1():
    multitest.next()
    ble.gap_connect(BDADDR[0], BDADDR[1])
    deadline = time.ticks_add(time.ticks_ms(), 10000)
    while state["conn"] is None and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        machine.idle()
    conn = state["conn"]
    print("connected", conn is not None)
    ble.gattc_write(conn, HANDLE + 1, b"\x01\x00", 1)  # subscribe, as a polite client does
    until("done", 1)
    t0 = time.ticks_ms()
    for i in range(ROUNDS):
        ble.gattc_write(conn, HANDLE, b"ping%d" % i, 0)
        until("notified", i + 1)
    ms = time.ticks_diff(time.ticks_ms(), t0)
    multitest.output_metric("ms_per_notification %.3f" % (ms / ROUNDS))
    ble.gap_disconnect(conn)
    print("rounds", ROUNDS)
