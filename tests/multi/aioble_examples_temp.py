# The aioble temperature sensor and client examples (examples/aioble_temp_*.py),
# run against each other: the client reads once, then gets notified readings that
# follow the sensor's 0.25-degree steps.
import sys
import asyncio
import aioble

sys.path.append("../../examples")


def quiet(*args):
    pass


def instance0():
    import aioble_temp_sensor as sensor

    multitest.next()
    try:
        asyncio.run(sensor.main(connections=1, interval_ms=100, log=quiet))
        print("sensor served one connection")
    finally:
        aioble.stop()


def instance1():
    import aioble_temp_client as client

    multitest.next()
    try:
        values = asyncio.run(client.main(readings=6, log=quiet))
    finally:
        aioble.stop()
    print("readings", len(values))
    print("in range", all(20 <= v <= 25 for v in values))
    steps = [round((b - a) * 100) for a, b in zip(values[1:], values[2:])]
    print("notified in 0.25 steps", all(s in (25, -500) for s in steps))
